"""Cut dials.export's scaled.mtz and dials.merge's merged.mtz of a demo run to their first 200
reflections, keeping every header record (run under DIALS's Python: /usr/bin/python3).

usage: /usr/bin/python3 make_small.py PROCESSING_DIR
"""

import sys
from pathlib import Path

from iotbx import mtz
from scitbx.array_family import flex

proc = Path(sys.argv[1])
for name in ("scaled.mtz", "merged.mtz"):
    m = mtz.object(str(proc / name))
    n = m.n_reflections()
    m.delete_reflections(flex.size_t(range(200, n)))
    m.write(str(Path(__file__).parent / name.replace(".mtz", "_200.mtz")))
    print(name, n, "->", m.n_reflections())
