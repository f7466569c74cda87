"""Refusing an oversized FITS file before any of its data is read or inflated.

Each HDU's size comes from its header alone (NAXISn, or ZNAXISn for a tile-compressed image) and
is checked against a pixel limit. A gzip file is inflated as a stream, only as far as its headers
declare and never past a hard cap, so a header that lies (100000 x 100000 in 142 bytes) or a gzip
that inflates to gigabytes costs kilobytes instead of an allocation of the declared size.
"""

from __future__ import annotations

import io
import logging
import math
import os
import zlib
from typing import BinaryIO

log = logging.getLogger(__name__)

BLOCK = 2880  # FITS headers and data come in blocks of this many bytes
CARD = 80
DEFAULT_MAX_FRAME_PIXELS = 200_000_000
MAX_PIXELS_ENV = "DATAS_MAX_FRAME_PIXELS"
MAX_BYTES_PER_PIXEL = 8  # BITPIX 64 and -64
HEADER_SLACK = 16 * 1024 * 1024  # all headers of a file together; a camera's take a few blocks
TRAILING_SLACK = 16 * BLOCK  # what a gzip may still inflate to after its last HDU (padding)
CHUNK = 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
# astropy would inflate these without a bound; uploads are plain or gzip anyway.
OTHER_COMPRESSION = {b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"PK\x03\x04": "zip"}
VALID_BITPIX = (8, 16, 32, 64, -32, -64)
RAISE_HINT = f"raise {MAX_PIXELS_ENV} if frames this large are real"


class Refused(Exception):
    """The file must not be read; `reason` is a frame rejection code (too_large, truncated...)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def default_max_pixels() -> int:
    """DATAS_MAX_FRAME_PIXELS when set, else 200 million: the CLI and the site agent have no
    server settings but honour the same variable."""
    text = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_FRAME_PIXELS
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1024:
        log.warning(
            "%s=%r is not a pixel count >= 1024; using %d",
            MAX_PIXELS_ENV,
            text,
            DEFAULT_MAX_FRAME_PIXELS,
        )
        return DEFAULT_MAX_FRAME_PIXELS
    return value


def too_many_pixels(what: str, pixels: int, max_pixels: int) -> Refused:
    return Refused(
        "too_large",
        f"{what} has {pixels:,} pixels, more than the limit of {max_pixels:,} "
        f"({MAX_PIXELS_ENV}); refused before reading its data: {RAISE_HINT}",
    )


def open_checked(raw: BinaryIO, name: str, max_pixels: int) -> BinaryIO:
    """`raw` (plain or gzipped FITS, seekable) as plain FITS, once every HDU's declared size is
    within `max_pixels`: plain input rewound, gzip inflated into memory. Raises Refused."""
    magic = raw.read(6)
    raw.seek(0)
    if magic.startswith(GZIP_MAGIC):
        inflated = _Inflated(raw, name, max_pixels * MAX_BYTES_PER_PIXEL + HEADER_SLACK)
        end = _scan(inflated, name, max_pixels)
        inflated.refuse_beyond(end)
        return inflated.rewound()
    for prefix, kind in OTHER_COMPRESSION.items():
        if magic.startswith(prefix):
            raise Refused(
                "not_fits",
                f"{name} is {kind}-compressed, which is not read; upload the FITS file plain, "
                "gzipped or tile-compressed (fpack)",
            )
    _scan(_Plain(raw), name, max_pixels)
    raw.seek(0)
    return raw


class _Plain:
    """An uncompressed file: data is skipped by seeking, never read."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.size = raw.seek(0, io.SEEK_END)
        raw.seek(0)

    def read(self, n: int) -> bytes:
        return self.raw.read(n)

    def skip(self, n: int) -> int:
        here = self.raw.tell()
        to = min(here + n, self.size)
        self.raw.seek(to)
        return to - here


class _Inflated:
    """A gzip stream inflated on demand into memory, at most `limit` bytes in all; further gzip
    members (`cat a.gz b.gz`) continue the stream as gzip.open would."""

    def __init__(self, raw: BinaryIO, name: str, limit: int) -> None:
        self.raw, self.name, self.limit = raw, name, limit
        self.buffer = io.BytesIO()
        self.size = 0  # bytes inflated so far
        self.pos = 0  # bytes handed out (read or skipped)
        self._z = zlib.decompressobj(wbits=31)  # 31: gzip container
        self._input = b""

    def read(self, n: int) -> bytes:
        self._fill(self.pos + n)
        self.buffer.seek(self.pos)
        data = self.buffer.read(n)
        self.buffer.seek(0, io.SEEK_END)  # inflating appends
        self.pos += len(data)
        return data

    def skip(self, n: int) -> int:
        self._fill(self.pos + n)
        got = min(n, self.size - self.pos)
        self.pos += got
        return got

    def refuse_beyond(self, declared: int) -> None:
        """A stream that goes on inflating past what its headers declare is a bomb (or junk)."""
        self._fill(declared + TRAILING_SLACK + 1)
        if self.size > declared + TRAILING_SLACK:
            raise Refused(
                "too_large",
                f"{self.name} inflates past the {declared:,} bytes its FITS headers declare "
                "(a decompression bomb or a corrupt file); refused without inflating the rest",
            )

    def rewound(self) -> BinaryIO:
        self.buffer.seek(0)
        return self.buffer

    def _fill(self, upto: int) -> None:
        if upto > self.limit:  # the hard cap, whatever the headers say
            upto = self.limit + 1
        while self.size < upto:
            if not self._input:
                self._input = self.raw.read(CHUNK)
                if not self._input:
                    if not self._z.eof:
                        raise Refused("truncated", f"{self.name}: the gzip stream is truncated")
                    return
            if self._z.eof:
                self._z = zlib.decompressobj(wbits=31)
            try:
                piece = self._z.decompress(self._input, min(upto - self.size, CHUNK))
            except zlib.error as exc:
                corrupt = f"{self.name}: the gzip stream is corrupt ({exc})"
                raise Refused("not_fits", corrupt) from exc
            self._input = self._z.unused_data if self._z.eof else self._z.unconsumed_tail
            self.buffer.write(piece)
            self.size += len(piece)
        if self.size > self.limit:
            raise Refused(
                "too_large",
                f"{self.name} inflates to more than {self.limit:,} bytes, more than any frame "
                f"within the pixel limit can take ({MAX_PIXELS_ENV}); refused while inflating",
            )


def _scan(source: _Plain | _Inflated, name: str, max_pixels: int) -> int:
    """Walk the HDUs by their headers, skipping data; return where the last one ends."""
    max_bytes = max_pixels * MAX_BYTES_PER_PIXEL + HEADER_SLACK
    end = pixels = header_bytes = images = 0
    index = 0
    while True:
        cards, length = _read_header(source, name, index, HEADER_SLACK - header_bytes)
        if cards is None:
            return end
        header_bytes += length
        hdu_pixels, data_bytes, shape = _declared(cards, name, index)
        if hdu_pixels:
            pixels += hdu_pixels
            images += 1
        if pixels > max_pixels:
            where = f"HDU {index}: {shape}" + (f"; {images} image HDUs" if images > 1 else "")
            raise too_many_pixels(f"{name} ({where})", pixels, max_pixels)
        if end + length + data_bytes > max_bytes:
            raise Refused(
                "too_large",
                f"{name} declares {end + length + data_bytes:,} bytes of headers and data, more "
                f"than the {max_bytes:,} a frame of {max_pixels:,} pixels may take "
                f"({MAX_PIXELS_ENV}); refused before reading its data: {RAISE_HINT}",
            )
        got = source.skip(data_bytes)
        if got < data_bytes:
            raise Refused(
                "truncated",
                f"{name} is truncated: HDU {index} declares {data_bytes:,} bytes of data but "
                f"only {got:,} follow; upload the complete file",
            )
        end += length + data_bytes
        index += 1


def _read_header(
    source: _Plain | _Inflated, name: str, index: int, budget: int
) -> tuple[dict[str, str] | None, int]:
    """The header's cards as raw value text and its length, or None where no HDU follows."""
    cards: dict[str, str] = {}
    length = 0
    while True:
        block = source.read(BLOCK)
        if length == 0:
            if index == 0 and not block.startswith(b"SIMPLE  ="):
                raise Refused(
                    "not_fits",
                    f"{name} is not FITS (it does not begin with a SIMPLE card); upload the "
                    "camera's FITS file (plain, gzip or fpack) as written",
                )
            if index > 0 and not block.startswith(b"XTENSION="):
                return None, 0  # the end, or padding after it (astropy judges that)
        if len(block) < BLOCK:
            raise Refused("truncated", f"{name} is truncated inside the header of HDU {index}")
        length += BLOCK
        if length > budget:
            raise Refused(
                "too_large", f"{name} has more than {HEADER_SLACK:,} bytes of FITS headers"
            )
        for at in range(0, BLOCK, CARD):
            card = block[at : at + CARD].decode("ascii", errors="replace")
            key = card[:8].rstrip()
            if key == "END":
                return cards, length
            if key and card[8:10] == "= ":
                cards[key] = _value(card[10:])


def _value(text: str) -> str:
    text = text.strip()
    if text.startswith("'"):  # a string: up to the closing quote ('' is a quote inside)
        return text[1:].split("'")[0].strip()
    return text.split("/")[0].strip()


def _declared(cards: dict[str, str], name: str, index: int) -> tuple[int, int, str]:
    """Pixels (image HDUs only), padded data bytes and a shape text, from one header."""

    def number(key: str, default: int | None = None, max_value: int | None = None) -> int:
        text = cards.get(key)
        if text is None and default is not None:
            return default
        try:
            value = int(text or "")
        except ValueError:
            value = -1
        if value < 0 or (max_value is not None and value > max_value):
            raise Refused(
                "not_fits",
                f"{name}: HDU {index} has no usable {key} card ({text!r}); the file is not "
                "valid FITS",
            )
        return value

    try:
        bitpix = int(cards.get("BITPIX", ""))
    except ValueError:
        bitpix = 0
    if bitpix not in VALID_BITPIX:
        raise Refused("not_fits", f"{name}: HDU {index} has BITPIX {cards.get('BITPIX')!r}")
    axes = [number(f"NAXIS{i}") for i in range(1, number("NAXIS", max_value=999) + 1)]
    random_groups = bool(axes) and axes[0] == 0 and cards.get("GROUPS") == "T"
    values = math.prod(axes[1:] if random_groups else axes) if axes else 0
    # FITS 4.0, 4.4.1: |BITPIX| x GCOUNT x (PCOUNT + NAXIS1 x ... x NAXISn) bits
    bits = abs(bitpix) * number("GCOUNT", 1) * (number("PCOUNT", 0) + values) if axes else 0
    data_bytes = -(-bits // (8 * BLOCK)) * BLOCK
    xtension = cards.get("XTENSION", "").strip().upper()
    if xtension == "BINTABLE" and cards.get("ZIMAGE") == "T":  # a tile-compressed image
        zaxes = [number(f"ZNAXIS{i}") for i in range(1, number("ZNAXIS", max_value=999) + 1)]
        shape = " x ".join(map(str, zaxes)) + " tile-compressed"
        return math.prod(zaxes) if zaxes else 0, data_bytes, shape
    shape = " x ".join(map(str, axes)) or "empty"
    is_image = (index == 0 and not random_groups) or xtension == "IMAGE"
    return (values if is_image else 0), data_bytes, shape
