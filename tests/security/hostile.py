"""Hostile values an attacker can put in a post, a handle, a brand or a reviewer's name."""

from __future__ import annotations

# Each would split a CSV row, run as a spreadsheet formula, or inject markup where rendered.
HOSTILE_TEXTS = [
    "evil\r=1+1",
    'line\rbreak\r\n=HYPERLINK("http://attacker.example","x")',
    "=cmd|' /C calc'!A0",
    "+1+2",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    '"quoted", comma',
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1)) ![](http://attacker.example/pixel.png)",
    "| cell | break |",
    "<!channel> everyone",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
