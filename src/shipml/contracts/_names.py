"""How much one column name looks like another renamed, and why.

A name is split into words (`TempMax`, `temp_max` and `temp-max` alike give temp, max) and
trailing unit words (`_c`, `_mm`, `_kwh`). Two names match when their words pair up, in
order or reordered (`max_temp` for `temp_max`), each pair the same word or an abbreviation
of it (a prefix `temp`, dropped vowels `tmp`, a consonant skeleton `prcp`, an initial `t`),
one word may stand for several (`bmi`, `tmax` = t(emp) max), a namespace prefix may come or
go (`station_temp_max`), and the units may change spelling (`degc` for `c`) or unit of the
same dimension (`f` for `c`, flagged). Qualifiers (min, max, mean, ...) never pair with
another word or get dropped: `min_temp` is not `max_temp`, nor `temp`.
"""

from __future__ import annotations

import difflib
import itertools
import re
from dataclasses import dataclass

_UNIT_DIMENSIONS = {
    "temperature": ("c", "f", "k", "degc", "degf", "celsius", "fahrenheit", "kelvin"),
    "length": ("nm", "um", "mm", "cm", "m", "km", "ft", "mi"),
    "time": ("ns", "us", "ms", "s", "sec", "secs", "min", "mins", "h", "hr", "hrs"),
    "frequency": ("hz", "khz", "mhz", "rpm"),
    "mass": ("mg", "g", "kg", "lb", "lbs"),
    "ratio": ("pct", "percent", "ppm"),
    "voltage": ("mv", "v", "kv"),
    "current": ("ma",),
    "power": ("w", "kw", "mw"),
    "energy": ("j", "kj", "wh", "kwh"),
    "pressure": ("pa", "kpa", "mpa", "bar", "psi", "hpa"),
    "volume": ("ml", "l"),
    "speed": ("mps", "kmh", "kph", "mph"),
    "money": ("usd", "eur", "gbp", "chf", "jpy"),
    "per": ("per",),
}
# "in", "a" and "t" are left out: as the last word of a name they are more often not units
_UNITS = {unit: dim for dim, units in _UNIT_DIMENSIONS.items() for unit in units}
_UNIT_SPELLINGS = {
    "degc": "c",
    "celsius": "c",
    "degf": "f",
    "fahrenheit": "f",
    "kelvin": "k",
    "sec": "s",
    "secs": "s",
    "mins": "min",
    "hr": "h",
    "hrs": "h",
    "percent": "pct",
    "lbs": "lb",
    "kph": "kmh",
}
# Words that change what a name means: never abbreviated into another word, never dropped.
_QUALIFIERS = {"min", "max", "mean", "avg", "average", "median", "std", "sd", "var", "sum"}
_QUALIFIERS |= {"total", "count", "num", "n", "pct", "delta", "diff", "prev", "next", "last"}
_QUALIFIERS |= {"first", "lag", "log", "sqrt", "is", "has", "new", "old", "high", "low"}
_QUALIFIERS |= {"lower", "upper", "start", "end", "begin", "created", "updated", "worst"}
_VOWELS = set("aeiou")
_MAX_WORDS = 12  # longer names are not compared (the word alignment grows with the length)
_MAX_REORDERED = 5  # names of up to this many words are tried in every order
_REORDERED = 0.05  # what reordering costs a match


@dataclass(frozen=True)
class NameMatch:
    """How alike two column names are (1.0 = the same name written differently), and why."""

    score: float
    reason: str


@dataclass(frozen=True)
class _Name:
    """A column name split into word tokens and trailing unit tokens."""

    stem: tuple[str, ...]
    units: tuple[str, ...]

    @property
    def tokens(self) -> tuple[str, ...]:
        return self.stem + self.units


def words(name: str) -> list[str]:
    """`temperatureC`, `Temperature_C` and `temperature-c` -> ["temperature", "c"]."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    spaced = re.sub(r"([A-Za-z])([0-9])", r"\1 \2", spaced)
    spaced = re.sub(r"([0-9])([A-Za-z])", r"\1 \2", spaced)
    return [t.lower() for t in re.split(r"[^A-Za-z0-9]+", spaced) if t]


def _readings(name: str) -> list[_Name]:
    """The ways to read a name: trailing units apart, and (if any) all words as words."""
    tokens = words(name)
    cut = len(tokens)
    while cut > 1 and tokens[cut - 1] in _UNITS:
        cut -= 1
    with_units = _Name(tuple(tokens[:cut]), tuple(tokens[cut:]))
    if cut == len(tokens):
        return [with_units]
    return [with_units, _Name(tuple(tokens), ())]  # `temp_min`: min is a word here


def name_match(expected: str, seen: str) -> NameMatch | None:
    """How much `seen` looks like `expected` renamed; None for unrelated names."""
    found = [
        match
        for a in _readings(expected)
        for b in _readings(seen)
        if (match := _match(a, b)) is not None
    ]
    return max(found, key=lambda m: m.score, default=None)


def _match(a: _Name, b: _Name) -> NameMatch | None:
    if not a.tokens or not b.tokens or max(len(a.tokens), len(b.tokens)) > _MAX_WORDS:
        return None
    if _numbers(a) != _numbers(b):
        return None  # sensor_1 is not sensor_2
    if a.tokens == b.tokens:
        return NameMatch(1.0, "same name in another case or separator style")
    if "".join(a.tokens) == "".join(b.tokens):
        return NameMatch(0.95, "same name with other word breaks")
    units = _unit_change(a.units, b.units)
    if units is None:
        return None
    unit_score, unit_reason = units
    stems = _match_stems(a.stem, b.stem)
    if stems is None:
        return None
    word_score, pairs = stems
    if not unit_reason:
        return NameMatch(word_score, ", ".join(pairs))
    if not pairs:
        return NameMatch(unit_score, unit_reason)
    score = round(min(word_score, unit_score) - 0.05, 3)
    return NameMatch(score, ", ".join([*pairs, unit_reason]))


def _numbers(name: _Name) -> list[str]:
    return [t for t in name.tokens if t.isdigit()]


def _unit_change(expected: tuple[str, ...], seen: tuple[str, ...]) -> tuple[float, str] | None:
    """Score and description of a plausible change of unit suffix; None for unrelated units."""
    if expected == seen:
        return 1.0, ""
    if not seen:
        return 0.85, f"unit suffix _{'_'.join(expected)} dropped"
    if not expected:
        return 0.85, f"unit suffix _{'_'.join(seen)} added"
    change = f"{'_'.join(expected)} -> {'_'.join(seen)}"
    if [_UNIT_SPELLINGS.get(u, u) for u in expected] == [_UNIT_SPELLINGS.get(u, u) for u in seen]:
        return 0.9, f"unit suffix spelled differently ({change})"
    if [_UNITS[u] for u in expected] == [_UNITS[u] for u in seen]:
        return 0.8, f"unit suffix changed ({change}): check the unit of the values"
    return None


def _match_stems(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[float, list[str]] | None:
    """The best pairing of two names' words: in order, reordered, or with a prefix added."""
    if a == b:
        return 1.0, []
    options = []
    if (in_order := _align(a, b)) is not None:
        options.append(in_order)
    if (reordered := _reordered(a, b)) is not None:
        options.append(reordered)
    for extra, rest, other, added in ((b, b, a, True), (a, a, b, False)):
        for width in (1, 2):
            prefix, tail = extra[:width], rest[width:]
            if len(tail) and not _QUALIFIERS & set(prefix) and not any(p.isdigit() for p in prefix):
                aligned = _align(other, tail) if added else _align(tail, other)
                if aligned is not None:
                    how = f"prefix {'_'.join(prefix)}_ {'added' if added else 'dropped'}"
                    options.append((min(aligned[0], 0.85), [*aligned[1], how]))
    return max(options, key=lambda option: option[0], default=None)


def _reordered(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[float, list[str]] | None:
    """The words of `b` in another order pair with `a`'s (`max_temp` for `temp_max`)."""
    if not 2 <= len(b) <= _MAX_REORDERED or len(a) > _MAX_REORDERED:
        return None
    best: tuple[float, list[str]] | None = None
    for order in itertools.permutations(b):
        if order == b:
            continue
        aligned = _align(a, order)
        if aligned is not None and (best is None or aligned[0] > best[0]):
            best = aligned
    if best is None:
        return None
    how = f"words reordered ({'_'.join(b)} = {'_'.join(a)})"
    return round(best[0] - _REORDERED, 3), [*best[1], how]


def _align(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[float, list[str]] | None:
    """Match the words of two names in order: the weakest pair's score and how they pair."""
    if not a or not b:
        return (1.0, []) if not a and not b else None
    pair = _word_match(a[0], b[0], alone=len(a) == len(b) == 1)
    if pair is not None and (rest := _align(a[1:], b[1:])) is not None:
        score, how = pair
        return min(score, rest[0]), [how, *rest[1]] if how else rest[1]
    for width in range(2, len(b) + 1):  # a's first word stands for several of b's
        covered = _covers(a[0], b[:width])
        if covered is not None and (rest := _align(a[1:], b[width:])) is not None:
            return min(covered, rest[0]), [f"{a[0]} = {' '.join(b[:width])}", *rest[1]]
    for width in range(2, len(a) + 1):  # b's first word stands for several of a's
        covered = _covers(b[0], a[:width])
        if covered is not None and (rest := _align(a[width:], b[1:])) is not None:
            return min(covered, rest[0]), [f"{b[0]} = {' '.join(a[:width])}", *rest[1]]
    return None


def _covers(token: str, several: tuple[str, ...]) -> float | None:
    """Whether one word abbreviates several in a row: `bmi` (initials), `tmax` (t + max)."""
    if len(token) < len(several) or any(word.isdigit() for word in several):
        return None
    if token == "".join(word[0] for word in several):
        return 0.85  # an initialism
    return 0.8 if _splits(token, several) else None


def _splits(token: str, several: tuple[str, ...]) -> bool:
    """Whether `token` cuts into one abbreviation (or the word itself) per word of `several`."""
    if not several:
        return not token
    word, rest = several[0], several[1:]
    for end in range(1, len(token) - len(rest) + 1):
        part = token[:end]
        qualifier = word in _QUALIFIERS
        fits = part == word if qualifier else (part == word or _abbreviates(part, word))
        if fits and _splits(token[end:], rest):
            return True
    return False


def _abbreviates(part: str, word: str) -> bool:
    """A prefix of the word, its first letter, or the word without some vowels or letters."""
    return word.startswith(part) or _is_skeleton(part, word) or _drops_vowels(part, word)


def _word_match(expected: str, seen: str, alone: bool) -> tuple[float, str] | None:
    """Score and description of two words that may be the same word; None otherwise.

    A single letter (`t` for `temp`) counts only beside other words (`t_max`), never alone.
    """
    if expected == seen:
        return 1.0, ""
    if expected.isdigit() or seen.isdigit():
        return None
    short, long = sorted((expected, seen), key=len)
    if long.startswith(short) and len(short) >= 3 and len(short) <= 0.65 * len(long):
        return 0.85, f"abbreviation ({short} = {long})"  # temp, lat; but not count for country
    if _drops_vowels(short, long):
        return 0.8, f"abbreviation ({short} = {long})"  # tmp
    if _is_skeleton(short, long):
        return 0.75, f"abbreviation ({short} = {long})"  # qty, prcp
    initial = len(short) == 1 and long.startswith(short) and long not in _QUALIFIERS
    if initial and not alone and len(long) >= 3:
        return 0.7, f"initial ({short} = {long})"
    if len(short) >= 4 and difflib.SequenceMatcher(None, short, long).ratio() >= 0.85:
        return 0.8, f"spelling ({seen} ~ {expected})"
    return None


def _drops_vowels(short: str, long: str) -> bool:
    """`tmp` for `temp`: the word with some of its vowels left out (never the first letter)."""
    if len(short) < 2 or len(short) >= len(long) or short[0] != long[0]:
        return False
    remaining = iter(long)
    kept = [any(letter == c for c in remaining) for letter in short]  # a subsequence?
    if not all(kept):
        return False
    dropped = list(long)
    for letter in short:  # remove the kept letters, leftmost first
        dropped.remove(letter)
    return all(letter in _VOWELS for letter in dropped)


def _is_skeleton(short: str, long: str) -> bool:
    """`qty` for `quantity`, `ts` for `timestamp`: first letter, then consonants in order."""
    if len(short) < 2 or len(long) - len(short) < 2 or short[0] != long[0]:
        return False
    if any(letter in _VOWELS for letter in short[1:]):
        return False
    remaining = iter(long[1:])
    return all(letter in remaining for letter in short[1:])
