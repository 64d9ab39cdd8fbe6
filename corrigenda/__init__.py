"""corrigenda: documents in, self-correction training data out.

import corrigenda
result = corrigenda.build("spec/offline.yaml", "out")   # also inside a notebook's running event loop
corrigenda.show("out", n=2)
"""

__version__ = "0.1.0"  # before the imports below: modules they load read it

from corrigenda import startup as _startup  # noqa: F401 - first: it makes Ctrl-C during the imports below one line

# Imported eagerly, after the submodule `corrigenda.build`, so the name `build` is the function, not that module.
from corrigenda.api import build, check, plan, show
from corrigenda.build import BuildResult
from corrigenda.compiler.plan import Plan
from corrigenda.emit.check import CheckResult
from corrigenda.emit.view import ViewItem
from corrigenda.errors import CorrigendaError

__all__ = [
    "BuildResult",
    "CheckResult",
    "CorrigendaError",
    "Plan",
    "ViewItem",
    "__version__",
    "build",
    "check",
    "plan",
    "show",
]
