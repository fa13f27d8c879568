# ruff: noqa
"""xia2 3.x's statistics table of xia2.txt, from the real xia2.json, by xia2's own formatter.

formats and format_statistics are copied verbatim from xia2/xia2 src/xia2/Schema/XCrystal.py
(commit 0cc0cb10609c77340806c3e271c8857492bcf9c4); run: python3 make_table.py > xia2-3.x_table.txt
"""

import collections
import json

formats = collections.OrderedDict(
    [
        ("High resolution limit", " %7.2f"),
        ("Low resolution limit", " %7.2f"),
        ("Completeness", "%7.1f"),
        ("Multiplicity", "%7.1f"),
        ("I/sigma", "%7.1f"),
        ("Rmerge(I)", "%7.3f"),
        ("Rmerge(I+/-)", "%7.3f"),
        ("Rmeas(I)", "%7.3f"),
        ("Rmeas(I+/-)", "%7.3f"),
        ("Rpim(I)", "%7.3f"),
        ("Rpim(I+/-)", "%7.3f"),
        ("CC half", "%7.3f"),
        ("Wilson B factor", "%7.3f"),
        ("Partial bias", "%7.3f"),
        ("Anomalous completeness", "%7.1f"),
        ("Anomalous multiplicity", "%7.1f"),
        ("Anomalous correlation", "%7.3f"),
        ("Anomalous slope", "%7.3f"),
        ("dF/F", "%7.3f"),
        ("dI/s(dI)", "%7.3f"),
        ("Total observations", "%7d"),
        ("Total unique", "%7d"),
    ]
)


def format_statistics(statistics, caption=None):
    """Format for printing statistics from data processing, removing from
    the main XCrystal __repr__ method. See DLS #1291"""

    available = list(statistics.keys())

    result = ""
    columns = len(statistics.get("Completeness", [1, 2, 3]))
    if caption:
        result += caption.ljust(44)
        if columns == 3:
            result += " Overall    Low     High"
        elif columns == 4:
            result += "Suggested   Low    High  Overall"
        result += "\n"

    for k, format_str in formats.items():
        if k in available:
            try:
                row_data = statistics[k]
                if columns == 4 and len(row_data) == 1:  # place value in suggest column
                    row_data = [None] * (columns - 1) + row_data
                row_format = [format_str] + [format_str.strip()] * (len(row_data) - 1)
                formatted = " ".join(
                    (f % k) if k is not None else (" " * len(f % 0))
                    for f, k in zip(row_format, row_data)
                )
            except TypeError:
                formatted = "(error)"
            result += k.ljust(44) + formatted + "\n"

    return result


doc = json.load(open("xia2.json"))
stats = doc["_crystals"]["DEFAULT"]["_scaler"]["_scalr_statistics"]
for key, value in stats.items():
    print(format_statistics(value, caption="For {}/{}/{}".format(*json.loads(key))), end="")
