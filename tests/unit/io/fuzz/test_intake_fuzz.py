"""Fuzzing intake (CSV, TSV, SMILES, SDF; plain and gzipped) with Hypothesis.

Two kinds of generated files:

- structured: built from a grammar whose rows are known in advance (real, mutated, truncated,
  huge and random SMILES; ids and labels with quotes, delimiters, line breaks, NUL, BOM and
  random Unicode; wrong field counts; blank lines; invalid UTF-8 bytes in chosen fields; BOM;
  CRLF; broken, truncated and unterminated SDF records). The rows read must be exactly those
  expected (count, ids, read errors);
- chaos: structured files and the test fixtures mutated at byte level (random bytes, stray
  quotes and line breaks, truncation, splicing, ``$$$$`` inserted, corrupt gzip), and raw random
  bytes. Only the invariants are checked.

Every file goes through ``check_intake`` (``intake_checks.py``): no exception but a documented
file-level ``InputError``; ``sum(n_merged) + len(rejects) == rows read``; every reject has a
reason; ids of accepted, merged and rejected rows are the ids of the rows read.

Deterministic (``derandomize=True``, no example database); the whole folder runs in < 60 s.
For a longer search set ``DRUGNET_FUZZ_SCALE`` (e.g. 20: twenty times the examples, new ones).
"""

from __future__ import annotations

import csv
import gzip
import io
import os

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rdkit import Chem

from drugnet.chem.molecule import DEFAULT_MAX_HEAVY_ATOMS, standardize_smiles
from drugnet.io.rejects import DEFAULT_MAX_RECORD_ATOMS, REASONS
from helpers.intake_checks import HUGE_SMILES, REAL_SMILES, check_intake, write
from helpers.paths import FIXTURES

BAD = "\ue000"  # placeholder for one invalid UTF-8 byte (written as 0xE9, read as U+FFFD)


SCALE = float(os.environ.get("DRUGNET_FUZZ_SCALE", "1"))


def fuzz_settings(n: int):
    return settings(
        max_examples=max(1, round(n * SCALE)),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


def encode(text: str) -> bytes:
    return text.encode("utf-8").replace(BAD.encode("utf-8"), b"\xe9")


def cleaned(text: str) -> str:
    return text.replace(BAD, "\ufffd")


def newlines(text: str) -> str:
    """What universal-newline reading makes of line breaks inside a quoted field."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ----------------------------------------------------------------------------- strategies

CHARS = st.characters(exclude_characters=BAD, exclude_categories=("Cs",))
SMILES_ALPHABET = "CNOSPFIBrclnos()[]=#@+-0123456789%/\\.*H:$ "


@st.composite
def mutated_smiles(draw) -> str:
    """A real SMILES with 1-4 edits: delete, insert, replace, swap, duplicate, truncate."""
    s = draw(st.sampled_from(REAL_SMILES))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "swap", "duplicate", "truncate"]))
        i = draw(st.integers(0, len(s)))
        j = draw(st.integers(i, len(s)))
        char = draw(st.sampled_from(SMILES_ALPHABET) | CHARS)
        if op == "delete":
            s = s[:i] + s[j:]
        elif op == "insert":
            s = s[:i] + char + s[i:]
        elif op == "replace":
            s = s[:i] + char + s[i + 1 :]
        elif op == "swap" and j < len(s):
            s = s[:i] + s[j] + s[i + 1 : j] + s[i] + s[j + 1 :] if i < j else s
        elif op == "duplicate":
            s = s[:j] + s[i:j] + s[j:]
        else:
            s = s[:i]
    return s


SMILES = st.one_of(
    st.sampled_from(REAL_SMILES),
    mutated_smiles(),
    st.sampled_from(HUGE_SMILES),
    st.text(CHARS, max_size=12),
    st.sampled_from(["", "  ", " CCO ", "C" * 150]),
)
TEXT = st.one_of(
    st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True),
    st.text(CHARS, max_size=10),
    st.sampled_from(
        [
            "",
            " ",
            "a;b",
            '"q"',
            'x"y',
            "x,y",
            "t\tab",
            "line\nbreak",
            "cr\rlf",
            "crlf\r\n",
            "\ufeffbom",
            "nul\x00",
            "NA",
            "  padded  ",
            "é ü 中",
        ]
    ),
)
LABEL = st.sampled_from(
    ["0", "1", "", "NA", "nan", "x", "2", "1.5", " 1 ", "-0", "1e3", "inf"]
) | st.text(CHARS, max_size=5)


def with_bad_byte(draw, value: str) -> str:
    i = draw(st.integers(0, len(value)))
    return value[:i] + BAD + value[i:]


# ----------------------------------------------------------------------------- CSV / TSV


@st.composite
def delimited_files(draw, sep: str):
    """(file bytes, options, expected [(id, read_error prefix)])."""
    extra = draw(st.lists(st.sampled_from(["name", "comment", "mw"]), unique=True, max_size=2))
    use_id = draw(st.booleans())
    header = draw(st.permutations(["smiles", "y", *(["cid"] if use_id else []), *extra]))
    labels = tuple(c for c in extra if c != "comment" and draw(st.booleans()))
    read = {"smiles", "y", *(["cid"] if use_id else []), *labels}
    n = len(header)
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    buffer = io.StringIO()

    def writerow(values: list[str]) -> None:
        # lineterminator CRLF makes the writer quote any field holding CR or LF; then our own eol
        line = io.StringIO()
        csv.writer(line, delimiter=sep, quoting=quoting, lineterminator="\r\n").writerow(values)
        buffer.write(line.getvalue().removesuffix("\r\n") + eol)

    if draw(st.booleans()):
        buffer.write("\ufeff")
    buffer.write(draw(st.sampled_from(["", eol, "  " + eol])))  # leading blank lines
    writerow(header)
    expected: list[tuple[str, str]] = []
    kinds = st.sampled_from(["row"] * 6 + ["wrong", "blank", "bad"])
    for _ in range(draw(st.integers(0, 10))):
        kind = draw(kinds)
        number = ("#" if use_id else "") + str(len(expected) + 1)  # blank id: drugnet.io.ids
        if kind == "blank":
            buffer.write(draw(st.sampled_from(["", " ", "   "])) + eol)
        elif kind == "wrong":
            m = draw(st.integers(1, n + 2).filter(lambda k: k != n))
            tokens = draw(
                st.lists(st.from_regex(r"[A-Za-z0-9]{1,6}", fullmatch=True), min_size=m, max_size=m)
            )
            buffer.write(sep.join(tokens) + eol)
            expected.append((number, f"malformed_line: expected {n} fields, found {m} (line "))
        else:
            values = {
                c: draw(SMILES if c == "smiles" else LABEL if c in ("y", "mw") else TEXT)
                for c in header
            }
            error = ""
            if kind == "bad":
                column = draw(st.sampled_from(header))
                values[column] = with_bad_byte(draw, values[column])
                error = (
                    f"encoding_error: invalid UTF-8 in column {column!r}" if column in read else ""
                )
            writerow([values[c] for c in header])
            ident = newlines(cleaned(values["cid"])).strip() if use_id else ""
            expected.append((ident or number, error))
    text = buffer.getvalue()
    if draw(st.booleans()):
        text = text.removesuffix(eol)
    options = {
        "targets": ("y",),
        "id_column": "cid" if use_id else None,
        "label_columns": labels,
        "task": draw(st.sampled_from(["classification", "regression"])),
        "chunk_size": draw(st.integers(1, 5)),
    }
    return encode(text), options, expected


def check_expected(rows, expected) -> None:
    assert rows is not None, "a well-formed file with data rows was refused"
    assert len(rows) == len(expected)
    for (ident, error), got_id, got_error in zip(
        expected, rows["id"], rows["read_error"], strict=False
    ):
        if ident is not None:
            assert got_id == ident
        if error is not None:
            assert got_error.startswith(error) and bool(got_error) == bool(error), (
                got_error,
                error,
            )


@pytest.mark.parametrize("sep, ext", [(",", "csv"), ("\t", "tsv")])
@fuzz_settings(110)
@given(data=st.data(), compress=st.booleans())
def test_structured_delimited(tmp_path, sep, ext, data, compress):
    content, options, expected = data.draw(delimited_files(sep))
    path = write(tmp_path / f"in.{ext}", content, compress)
    rows = check_intake(path, **options)
    if not expected:
        assert rows is None  # header only: documented "empty input"
    else:
        check_expected(rows, expected)


# ----------------------------------------------------------------------------- SMILES


@st.composite
def smi_files(draw):
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    lines: list[str] = []
    expected: list[tuple[str, str]] = []
    for _ in range(draw(st.integers(0, 10))):
        kind = draw(st.sampled_from(["row"] * 5 + ["blank", "bad"]))
        if kind == "blank":
            lines.append(draw(st.sampled_from(["", " ", "\t ", "\u3000"])))
            continue
        smiles = "".join(c for c in draw(SMILES) if not c.isspace()) or "C"
        name = draw(st.none() | TEXT.map(lambda t: "".join(c for c in t if c not in "\r\n")))
        error = ""
        if kind == "bad":
            if name is not None and draw(st.booleans()):
                name = with_bad_byte(draw, name)
            else:
                smiles = with_bad_byte(draw, smiles)
            error = "encoding_error: invalid UTF-8 (line "
        gap = draw(st.sampled_from([" ", "\t", "  "]))
        lines.append(smiles if name is None else smiles + gap + name)
        ident = cleaned(name).strip() if name is not None else ""
        expected.append((ident or f"#{len(expected) + 1}", error))  # blank name: placeholder
    text = (
        ("\ufeff" if draw(st.booleans()) else "")
        + eol.join(lines)
        + (eol if draw(st.booleans()) else "")
    )
    return encode(text), expected


@fuzz_settings(110)
@given(file=smi_files(), compress=st.booleans(), chunk_size=st.integers(1, 5))
def test_structured_smi(tmp_path, file, compress, chunk_size):
    content, expected = file
    rows = check_intake(write(tmp_path / "in.smi", content, compress), chunk_size=chunk_size)
    if expected:
        check_expected(rows, expected)
    else:
        assert rows is None


# ----------------------------------------------------------------------------- SDF


def _molblocks() -> list[list[str]]:
    """Mol blocks (lines after the name line, through ``M  END``) of the parseable pool SMILES."""
    blocks = []
    for smiles in REAL_SMILES:
        mol = Chem.MolFromSmiles(smiles)
        if mol is not None and mol.GetNumAtoms():
            conformer = Chem.Conformer(
                mol.GetNumAtoms()
            )  # all-zero 2D coordinates: no layout needed
            conformer.Set3D(
                False
            )  # (RDKit refuses some all-zero *3D* records, e.g. the Pt complex)
            mol.AddConformer(conformer, assignId=True)
            blocks.append(Chem.MolToMolBlock(mol).splitlines()[1:])
    return blocks


MOLBLOCKS = _molblocks()
# one line of an SD record; a leading U+FEFF at the start of a file would read as a byte-order mark
ONE_LINE = TEXT.map(lambda t: "".join(c for c in t if c not in "\r\n").lstrip("\ufeff")).filter(
    lambda t: t.strip() != "$$$$"
)
SD_VALUE = st.from_regex(r"[A-Za-z0-9 .+-]{0,8}", fullmatch=True).map(str.strip) | LABEL.map(
    lambda t: "".join(c for c in t if c not in "\r\n") or "0"
)


@st.composite
def sdf_files(draw):
    use_id = draw(st.booleans())
    labels = ("activity",) if draw(st.booleans()) else ()
    records: list[str] = []
    expected: list[tuple[str | None, str | None]] = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["valid"] * 4 + ["broken", "truncated", "bad", "whitespace"]))
        number = "#" + str(len(expected) + 1)  # blank SDF id: drugnet.io.ids placeholder
        if kind == "whitespace":
            records.append(draw(st.sampled_from(["", "\n", "  \n\n"])) + "$$$$\n")
            continue
        name = draw(ONE_LINE)
        if kind == "broken":
            garbage = draw(st.lists(ONE_LINE, max_size=3))
            name = name.strip() or "broken"
            records.append(
                "\n".join(
                    [
                        name,
                        "  RDKit          2D",
                        "",
                        "  3  2  0  0  0  0  0  0  0  0999 V2000",
                        *garbage,
                    ]
                )
                + "\n$$$$\n"
            )
            expected.append((number if use_id else name.strip(), "broken_sdf_block"))
            continue
        body = draw(st.sampled_from(MOLBLOCKS))
        props = {"cid": draw(ONE_LINE), "activity": draw(SD_VALUE)}
        error = ""
        if kind == "bad":
            field = draw(st.sampled_from(["name", "cid", "activity"]))
            if field == "name":
                name = with_bad_byte(draw, name)
            else:
                props[field] = with_bad_byte(draw, props[field])
            used = (
                "name"
                if not use_id and field == "name"
                else field
                if (field == "cid" and use_id) or field in labels
                else None
            )
            if used == "name":
                error = "encoding_error: invalid UTF-8 in the name line"
            elif used:
                error = f"encoding_error: invalid UTF-8 in SD property {used!r}"
        lines = [name, *body]
        for key in draw(st.permutations(list(props))):
            if props[key] or draw(st.booleans()):
                lines += [f">  <{key}>", props[key], ""]
        if kind == "truncated":
            lines = lines[: draw(st.integers(1, len(lines) - 1))]
            name = name.strip() or "cut"
            lines[0] = name
            records.append("\n".join(lines) + "\n$$$$\n")
            expected.append((None if use_id else name, None))
            continue
        records.append("\n".join(lines) + "\n$$$$\n")
        ident = cleaned(props["cid"] if use_id else name).strip()
        expected.append((ident or number, error))
    text = "".join(records)
    if records and draw(st.booleans()):
        text = text.removesuffix("$$$$\n")  # unterminated last record
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    text = (
        ("\ufeff" if draw(st.booleans()) else "")
        + text
        + draw(st.sampled_from(["", "\n", "\n  \n"]))
    )
    options = {
        "id_column": "cid" if use_id else None,
        "label_columns": labels,
        "chunk_size": draw(st.integers(1, 4)),
    }
    return encode(text), options, expected


@fuzz_settings(110)
@given(file=sdf_files(), compress=st.booleans())
def test_structured_sdf(tmp_path, file, compress):
    content, options, expected = file
    rows = check_intake(write(tmp_path / "in.sdf", content, compress), **options)
    if rows is None:  # allowed only when nothing is expected or a requested property never occurs
        wanted = ([options["id_column"]] if options["id_column"] else []) + list(
            options["label_columns"]
        )
        assert not expected or wanted
        return
    check_expected(rows, expected)


# ----------------------------------------------------------------------------- chaos

INSERTS = [
    b'"',
    b'""',
    b"\n",
    b"\r",
    b"\r\n",
    b",",
    b"\t",
    b";",
    b"$$$$\n",
    b"\xff",
    b"\xe9",
    b"\x00",
    b"\xef\xbb\xbf",
    b"M  END\n",
    b">  <cid>\n",
    b"\xc3",
    b"\xed\xa0\x80",
]


@st.composite
def mutated_bytes(draw, content: bytes) -> bytes:
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["insert", "flip", "delete", "truncate", "duplicate", "splice"]))
        i = draw(st.integers(0, len(content)))
        j = draw(st.integers(i, min(len(content), i + 200)))
        if op == "insert":
            content = content[:i] + draw(st.sampled_from(INSERTS)) + content[i:]
        elif op == "flip" and i < len(content):
            content = (
                content[:i] + bytes([content[i] ^ draw(st.integers(1, 255))]) + content[i + 1 :]
            )
        elif op == "delete":
            content = content[:i] + content[j:]
        elif op == "truncate":
            content = content[:i]
        elif op == "duplicate":
            content = content[:j] + content[i:j] + content[j:]
        else:
            content = content[:i] + draw(st.binary(max_size=40)) + content[j:]
    return content


FIXTURE_FILES = {"csv": "messy.csv", "tsv": "messy.tsv", "smi": "messy.smi", "sdf": "messy.sdf"}


@st.composite
def chaos_files(draw, ext: str):
    source = draw(st.sampled_from(["structured", "fixture", "random"]))
    options: dict = {"chunk_size": draw(st.integers(1, 5))}
    if source == "random":
        content = draw(st.binary(max_size=400))
    else:
        if source == "fixture":
            content = (FIXTURES / FIXTURE_FILES[ext]).read_bytes()
        elif ext in ("csv", "tsv"):
            content, options, _ = draw(delimited_files("," if ext == "csv" else "\t"))
        elif ext == "smi":
            content, _ = draw(smi_files())
        else:
            content, options, _ = draw(sdf_files())
        head = b""
        if ext in ("csv", "tsv") and draw(st.booleans()):  # keep the header intact half of the time
            head, _, content = content.partition(b"\n")
            head += b"\n"
        content = head + draw(mutated_bytes(content))
    if source == "fixture" and ext == "csv":
        options.update(id_column="compound_id", targets=("active", "tox"))
    elif source == "fixture" and ext == "tsv":
        options.update(smiles_column="SMILES", targets=("logS",), task="regression")
    elif source == "fixture" and ext == "sdf":
        options.update(label_columns=("activity",))
    elif source == "random" and ext in ("csv", "tsv"):
        content = (b"smiles,y\n" if ext == "csv" else b"smiles\ty\n") + content
        options.update(targets=("y",))
    compress = draw(st.sampled_from(["plain"] * 4 + ["gzip", "corrupt-gzip"]))
    if compress == "corrupt-gzip":
        packed = gzip.compress(content, mtime=0)
        i = draw(st.integers(10, max(10, len(packed))))
        content = packed[:i] + draw(st.binary(max_size=8)) + packed[i + draw(st.integers(0, 8)) :]
    return content, options, compress == "gzip"


@pytest.mark.parametrize("ext", ["csv", "tsv", "smi", "sdf"])
@fuzz_settings(130)
@given(data=st.data())
def test_chaos(tmp_path, ext, data):
    content, options, compress = data.draw(chaos_files(ext))
    rows = check_intake(write(tmp_path / f"in.{ext}", content, compress), **options)
    event("file-level InputError" if rows is None else "rows read")
    if rows is not None:
        for error in set(rows["read_error"].str.split(":").str[0]) - {""}:
            event(f"read_error {error}")


# ----------------------------------------------------------------------------- molecules


@fuzz_settings(400)
@given(smiles=SMILES)
def test_standardize_smiles_never_raises_and_work_is_bounded(smiles):
    """Work is bounded by size caps (not timed, which flakes under load): a record over the atom
    cap is never sanitized or standardized, an accepted one is within the heavy-atom cap."""
    result = standardize_smiles(smiles)
    assert (result.mol is None) != (result.reason is None)
    assert result.reason is None or result.reason in REASONS
    raw = Chem.MolFromSmiles(smiles.strip(), sanitize=False) if smiles.strip() else None
    if (
        raw is not None
        and raw.GetNumAtoms() > DEFAULT_MAX_RECORD_ATOMS
        and not any(c.isspace() for c in smiles.strip())
    ):
        assert result.reason == "too_many_atoms", (len(smiles), result.reason)
    if result.mol is not None:
        assert result.mol.GetNumHeavyAtoms() <= DEFAULT_MAX_HEAVY_ATOMS
        Chem.MolToSmiles(result.mol)
