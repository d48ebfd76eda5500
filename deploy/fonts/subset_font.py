"""Cut the font of the QR mark out of Debian's Noto Sans CJK SC Bold.

The mark (``registry/marks/``) prints a few fixed words in Chinese and
English plus the certificate number, so it ships a subset of a few dozen
glyphs instead of a 20 MB collection. Run from the repository root, with
Debian's ``fonts-noto-cjk`` installed and ``fonttools`` in the venv::

    apt-get install -y fonts-noto-cjk
    .venv/bin/python deploy/fonts/subset_font.py

It rewrites ``static/fonts/StarmarkMarkSans-Bold.otf`` and
``static/fonts/OFL.txt`` (the licence, taken from the package's copyright file).
The output is deterministic for a given input font and fontTools version.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
#: In Debian's NotoSansCJK-*.ttc, face 0 is JP, 1 KR, 2 SC, 3 TC, 4 HK.
SOURCE_INDEX = 2
COPYRIGHT_FILE = Path("/usr/share/doc/fonts-noto-cjk/copyright")
REPO = Path(__file__).resolve().parents[2]
OUT_DIR = REPO / "static" / "fonts"
OUT_FONT = "StarmarkMarkSans-Bold.otf"

#: Every character the mark prints. Keep in step with ``registry.marks.words.MARK_TEXT``
#: (the tests check that each string the renderer can print is covered).
CJK_TEXT = "售后服务认证 达标级 三星级 四星级 五星级 有效 证书编号 ★☆：·"
#: Printable ASCII covers "After-sales Service Certified", the level words and every number.
LATIN_TEXT = "".join(chr(code) for code in range(0x20, 0x7F))

#: OFL 1.1 §3: a Modified Version must not use the Reserved Font Name; we rename
#: the family anyway so nobody mistakes this subset for the full Noto font.
FAMILY = "Starmark Mark Sans"
POSTSCRIPT_NAME = "StarmarkMarkSans-Bold"
#: The upstream LICENSE of noto-cjk (the Debian copyright file only has the OFL text).
UPSTREAM_COPYRIGHT = (
    "Copyright 2014-2021 Adobe (http://www.adobe.com/), with Reserved Font Name 'Source'.\n"
    "Subset and renamed for Starmark by deploy/fonts/subset_font.py "
    "(a Modified Version under OFL 1.1).\n"
)


def characters() -> str:
    return "".join(sorted(set(CJK_TEXT + LATIN_TEXT)))


def load_source(path: Path, index: int) -> TTFont:
    collection = TTCollection(str(path), lazy=False)
    return collection.fonts[index]


def cut(font: TTFont, text: str) -> TTFont:
    options = subset.Options()
    options.layout_features = []  # the mark sets plain horizontal text: no GSUB/GPOS needed
    options.drop_tables += ["BASE", "GDEF", "GPOS", "GSUB", "VORG", "vhea", "vmtx", "DSIG"]
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14]
    options.name_languages = [0x409]
    options.hinting = True  # CFF hints keep the small text even at 150-300 dpi
    options.desubroutinize = True  # smaller once the few glyphs lose their shared subrs
    options.notdef_outline = False  # an empty .notdef: a missing glyph can never be a box
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    return font


def rename(font: TTFont) -> None:
    name = font["name"]
    for rec in list(name.names):
        if rec.nameID in (1, 3, 4, 6, 16, 17):
            name.removeNames(nameID=rec.nameID)
    version = font["head"].fontRevision
    for name_id, value in {
        1: FAMILY,
        2: "Bold",
        3: f"{version:.3f};STARMARK;{POSTSCRIPT_NAME}",
        4: f"{FAMILY} Bold",
        6: POSTSCRIPT_NAME,
    }.items():
        name.setName(value, name_id, 3, 1, 0x409)
    cff = font["CFF "].cff
    cff.fontNames = [POSTSCRIPT_NAME]
    top = cff.topDictIndex[0]
    top.FullName = f"{FAMILY} Bold"
    top.FamilyName = FAMILY


def licence_text(copyright_file: Path) -> str:
    """The OFL 1.1 text as Debian's machine-readable copyright file holds it."""
    raw = copyright_file.read_text(encoding="utf-8")
    match = re.search(r"^License: SIL-1\.1\n((?: .*\n)+)", raw, re.MULTILINE)
    if match is None:
        raise SystemExit(f"no 'License: SIL-1.1' paragraph in {copyright_file}")
    lines = [line[1:] for line in match.group(1).splitlines()]
    body = "\n".join("" if line == "." else line for line in lines)
    return UPSTREAM_COPYRIGHT + "\n" + body.strip("\n") + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--index", type=int, default=SOURCE_INDEX)
    parser.add_argument("--copyright", type=Path, default=COPYRIGHT_FILE)
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = parser.parse_args()

    font = load_source(args.source, args.index)
    text = characters()
    cut(font, text)
    rename(font)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    out = args.out_dir / OUT_FONT
    font.recalcTimestamp = False  # keep the source's dates: the same input gives the same bytes
    font.save(str(out), reorderTables=True)
    (args.out_dir / "OFL.txt").write_text(licence_text(args.copyright), encoding="utf-8")

    check = TTFont(str(out))
    cmap = check.getBestCmap()
    missing = [c for c in text if ord(c) not in cmap]
    if missing:
        raise SystemExit(f"the source font lacks {missing!r}")
    print(f"{out}: {out.stat().st_size} bytes, {len(check.getGlyphOrder())} glyphs")


if __name__ == "__main__":
    main()
