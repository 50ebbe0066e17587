"""Stand-ins for what a notebook's front end provides, so that code written for Jupyter or Colab loads.

A notebook's kernel always has IPython (`display`, `get_ipython`, `from IPython.display import
clear_output`), often tqdm and ipywidgets, and on Colab `google.colab`; the sandbox reads none of
them. A first cell `from IPython.display import display` then `import numpy as np` stopped at its
first line, and every function then lacked `np`: a notebook that passes in Jupyter lost its points.
These modules only show things (progress bars, widgets, rich output) or reach the front end (a
drive to mount), so here each is a module whose every name does nothing; tqdm still hands back
what it was given to iterate over. Consulted last, only for a module nothing else can import.

Child-side module: standard library only (loaded as part of `_gradebox`, before the jail closes).
"""

import importlib.machinery
import sys
import types

# Top-level packages, and the packages under a namespace (`google.colab`, not all of `google`).
PACKAGES = ("IPython", "ipywidgets", "ipykernel", "tqdm", "google.colab")


class Inert:
    """Does nothing, whatever is asked of it: a display call, a widget, a drive to mount."""

    def __call__(self, *args, **kwargs):
        # A decorator (@interact, @interact_manual(...)) hands back the function it was given.
        if len(args) == 1 and not kwargs and callable(args[0]):
            return args[0]
        return self

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def __iter__(self):
        return iter(())

    def __bool__(self):  # IPython.get_ipython() is falsy outside a kernel: libraries asking it do nothing
        return False

    def __repr__(self):
        return "<not shown: graded without a notebook front end>"


class ProgressBar(Inert):
    """tqdm(iterable, ...): the iterable itself, and no bar; update(), set_postfix(), close() do nothing."""

    def __init__(self, iterable=None, *args, **kwargs):
        self._iterable = iterable

    def __iter__(self):
        return iter(() if self._iterable is None else self._iterable)

    def __len__(self):
        return len(self._iterable) if self._iterable is not None else 0

    def __call__(self, *args, **kwargs):
        return self

    def __bool__(self):
        return True

    @staticmethod
    def write(text="", *args, **kwargs):
        print(text)


def trange(*args, **kwargs):
    return ProgressBar(range(*args))


def _stand_in(name, package):
    module = types.ModuleType(name, "a stand-in: the grader runs submissions without a notebook front end")
    module.__path__ = []  # a package: any submodule (IPython.display, tqdm.auto) is a stand-in too
    inert = Inert()

    def attribute(attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        if package == "tqdm":
            return trange if attr == "trange" or attr.endswith("_trange") else ProgressBar
        return inert

    module.__getattr__ = attribute
    if name == "IPython":  # libraries read it (matplotlib): a version with nothing left to patch
        module.version_info, module.__version__ = (9, 0, 0, ""), "9.0.0"
    return module


def _package_of(name):
    for package in PACKAGES:
        if name == package or name.startswith(package + "."):
            return package
    return None


class FrontEndFinder:
    """A meta path finder for the front ends' modules, placed after the real ones."""

    def find_spec(self, name, path=None, target=None):
        package = _package_of(name)
        namespace = any(p.startswith(name + ".") for p in PACKAGES)  # `google`, on the way to google.colab
        if package is None and not namespace:
            return None
        return importlib.machinery.ModuleSpec(name, self, is_package=True)

    def create_module(self, spec):
        package = _package_of(spec.name)
        if package is None:
            module = types.ModuleType(spec.name)
            module.__path__ = []
            return module
        return _stand_in(spec.name, package)

    def exec_module(self, module):
        pass


class HeadlessPlots:
    """matplotlib.use("TkAgg") (or "MacOSX", "Qt5Agg"), written for the learner's screen, keeps the
    non-interactive Agg here: there is no screen, so the first figure would raise ImportError ("as
    'headless' is currently running") where the learner saw a window. Plots are never shown anyway."""

    def find_spec(self, name, path=None, target=None):
        if name != "matplotlib":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                run = spec.loader.exec_module

                def exec_module(module, run=run):
                    run(module)
                    chosen = module.use
                    module.use = lambda backend, force=True: chosen("agg", force=force)

                spec.loader.exec_module = exec_module  # this loader loads only this module
                return spec
            if spec is not None:
                return spec
        return None


def install(namespace):
    """Add the finders (the front ends' last: a module the sandbox does have is imported as itself) and
    the names IPython's kernel puts in every notebook's builtins (also in a script exported from one)."""
    sys.meta_path.insert(0, HeadlessPlots())
    sys.meta_path.append(FrontEndFinder())
    inert = Inert()
    namespace.setdefault("display", lambda *objects, **kwargs: None)
    namespace.setdefault("get_ipython", lambda: inert)
