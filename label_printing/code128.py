"""Code 128 (ISO/IEC 15417) planned once, for the PDF bars and for ZPL alike.

The subset plan is ours so that the printer draws the very symbol the PDF shows: ZPL's
automatic mode picks its own subsets, and python-barcode's plan for "B0000127" is one
character (11 modules) longer than the shortest. python-barcode supplies the bar patterns.
"""

from barcode.charsets.code128 import CODES, STOP

_PATTERNS: tuple[str, ...] = tuple(CODES)  # 11 modules per symbol value 0-106
# python-barcode's STOP lacks the final 2-module bar of the 13-module stop pattern.
_STOP: str = STOP + "11"
START_B, START_C, TO_C, TO_B = 104, 105, 99, 100
# ZPL invocation codes for ^BC mode N (ZPL II Programming Guide 45541L-004, ^BC Table 6):
# >: start B, >; start C, >5 CODE C, >6 CODE B.


def plan(text: str) -> tuple[int, ...]:
    """Symbol values, start code first, check and stop left out: the fewest symbols using
    subset B for letters and '-' and subset C for pairs of digits."""
    # in_b[i], in_c[i]: the shortest encoding of text[i:] when subset B or C is current.
    in_b: list[tuple[int, ...]] = [()] * (len(text) + 1)
    in_c: list[tuple[int, ...]] = [()] * (len(text) + 1)
    for at in reversed(range(len(text))):
        pair = text[at : at + 2]
        in_b[at] = (ord(text[at]) - 32, *in_b[at + 1])
        if len(pair) == 2 and pair.isdigit():
            # In subset C a digit pair costs one symbol: leaving C before it never pays.
            in_c[at] = (int(pair), *in_c[at + 2])
            in_b[at] = min(in_b[at], (TO_C, *in_c[at]), key=len)
        else:
            in_c[at] = (TO_B, *in_b[at])
    by_b, by_c = (START_B, *in_b[0]), (START_C, *in_c[0])
    return by_c if len(by_c) < len(by_b) else by_b


def modules(text: str) -> str:
    """The symbol as '1' (bar) and '0' (space) modules, quiet zones not included."""
    values = plan(text)
    check = (values[0] + sum(i * v for i, v in enumerate(values[1:], start=1))) % 103
    return "".join(_PATTERNS[v] for v in (*values, check)) + _STOP


def zpl_field_data(text: str) -> str:
    """^BC field data in mode N: our subsets as invocation codes; the printer adds the check."""
    start, *values = plan(text)
    subset = "C" if start == START_C else "B"
    out = [">;" if subset == "C" else ">:"]
    for value in values:
        # 99 is CODE C in subset B but the digits "99" in subset C: read it by the subset.
        if subset == "B" and value == TO_C:
            out.append(">5")
            subset = "C"
        elif subset == "C" and value == TO_B:
            out.append(">6")
            subset = "B"
        else:
            out.append(f"{value:02d}" if subset == "C" else chr(value + 32))
    return "".join(out)
