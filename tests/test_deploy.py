"""Docker files cannot be built here (no engine), so check what they reference."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_has_bot_and_one_shot_reindex():
    services = _compose()["services"]
    assert set(services) >= {"bot", "reindex"}
    assert services["reindex"]["command"] == ["python", "-m", "index", "build"]
    assert services["reindex"]["restart"] == "no"
    assert services["bot"]["depends_on"]["reindex"]["condition"] == "service_completed_successfully"


def test_compose_references_exist():
    compose = _compose()
    for name, service in compose["services"].items():
        build = service["build"]
        context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
        assert (context / "Dockerfile").is_file(), name
        for volume in service["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name}: {source} missing"
            else:
                assert source in compose["volumes"], f"{name}: named volume {source} undeclared"
        assert {"knowledge", "data"} <= {
            v.split(":")[1].strip("/").split("/")[-1] for v in service["volumes"]
        }


def test_dockerfile_copies_existing_paths_and_runs_as_non_root():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    for source in re.findall(r"^COPY (\S+(?: \S+)*) \S+$", text, flags=re.M):
        for path in source.split():
            assert (ROOT / path).exists(), path
    assert "torch==2.13.0" in text and "whl/cpu" in text
    assert re.search(r"^USER (?!root)\w+", text, flags=re.M)
    assert "HEALTHCHECK" in text
    assert "model build-default" in text


def test_env_example_names_only_real_settings():
    known = {f"POMOCNIK_{name.upper()}" for name in Settings.model_fields}
    known |= {"TELEGRAM_BOT_TOKEN", "TELEGRAM_BASE_URL"}
    names = re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(encoding="utf-8"), flags=re.M)
    assert names, "no settings in .env.example"
    unknown = sorted(set(names) - known)
    assert not unknown, f".env.example names unknown settings: {unknown}"


def test_compose_sync_service_runs_daily_and_may_write_knowledge():
    compose = _compose()
    sync = compose["services"]["sync"]
    assert sync["profiles"] == ["sync"], "off by default: it needs the network"
    command = " ".join(sync["command"])
    assert "python -m index sync" in command and "sleep 86400" in command
    assert "./knowledge:/app/knowledge" in sync["volumes"]  # not :ro, the sync writes it
    assert sync["restart"] == "unless-stopped"
    # The bot and the one-shot build keep the folder read-only.
    for name in ("bot", "reindex"):
        assert "./knowledge:/app/knowledge:ro" in compose["services"][name]["volumes"]
