"""Numbers written for st.latex, shared by the pages' "The math" panels."""
from __future__ import annotations


def number(x: float, digits: int = 3) -> str:
    """0.25 stays 0.25; 1.42e-07 becomes 1.42 \\times 10^{-7}."""
    text = f"{x:.{digits}g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"
