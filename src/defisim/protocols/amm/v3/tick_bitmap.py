"""TickBitmap of Uniswap V3 (spec ``amm.md`` 2.6). The bitmap is a ``dict[int, int]``: word
position (``compressed >> 8``) → uint256 word; absent words are 0."""

from __future__ import annotations

from ..errors import PoolError


def flip_tick(bitmap: dict[int, int], tick: int, tick_spacing: int) -> None:
    """XOR the bit of ``tick``; raises ``V3_TICK_SPACING`` if ``tick`` is not a multiple of
    ``tick_spacing``. A word that becomes 0 is removed from the dict."""
    if tick % tick_spacing:
        raise PoolError("V3_TICK_SPACING", f"tick {tick} not a multiple of {tick_spacing}")
    compressed = tick // tick_spacing
    word_pos = compressed >> 8
    word = bitmap.get(word_pos, 0) ^ (1 << (compressed & 255))
    if word:
        bitmap[word_pos] = word
    else:
        bitmap.pop(word_pos, None)


def next_initialized_tick_within_one_word(
    bitmap: dict[int, int], tick: int, tick_spacing: int, lte: bool
) -> tuple[int, bool]:
    """The next initialised tick in the same 256-bit word, or the word's last tick.

    ``lte`` searches down including ``tick``; otherwise up from the next compressed index.
    Returns ``(tickNext, initialized)`` (spec 2.6).
    """
    compressed = tick // tick_spacing
    if lte:
        bit_pos = compressed & 255
        masked = bitmap.get(compressed >> 8, 0) & ((1 << (bit_pos + 1)) - 1)
        if masked:
            return (compressed - (bit_pos - (masked.bit_length() - 1))) * tick_spacing, True
        return (compressed - bit_pos) * tick_spacing, False
    compressed += 1
    bit_pos = compressed & 255
    masked = bitmap.get(compressed >> 8, 0) >> bit_pos
    if masked:
        lsb = (masked & -masked).bit_length() - 1  # relative to bit_pos
        return (compressed + lsb) * tick_spacing, True
    return (compressed + 255 - bit_pos) * tick_spacing, False
