"""What the jail may read, derived for the Python layouts this machine does not have, simulated.

Each layout is a real tree under tmp_path laid out as that installation lays itself out
(Debian's /usr/lib/python3.X with /usr/lib/python3/dist-packages, Fedora's lib64, conda's
/opt/conda, the Docker images' /usr/local, uv's interpreters under a home directory), with
what its interpreter would report: sysconfig's stdlib, its `python -I -S` start-up sys.path,
the grader's sys.path, and the shared libraries mapped once numpy is imported (a maps file).
readable.derive then decides, and both the Landlock rules and the jail's own root are checked:
the standard library, lib-dynload, numpy and its libraries readable; other packages, the grader,
the rest of the prefix (conda's pkgs/ and envs/, bin/) and the home directory not.
A real jail runs on Debian's own python3 in tests/test_distro_python.py.
"""

import os

import pytest

from grader.sandbox import readable

NUMPY = "simnumpy"  # found by the import system like numpy, but not the numpy this test runs on
ELF = b"\x7fELF" + bytes(60)


def make(root, files):
    """Create FILES (paths relative to ROOT; a trailing / makes a directory) and return ROOT's path."""
    for name in files:
        path = root / name
        if name.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(ELF if ".so" in path.name else b"# module\n")
    return root


def derive(tmp_path, monkeypatch, *, system, python_dirs, startup, path, site_dirs=(), hidden=(), libraries=()):
    """readable.derive on the simulated layout (paths relative to tmp_path), as the fork server calls it."""
    real = str(tmp_path.resolve())

    def at(names):
        return [os.path.join(real, name) for name in names]

    monkeypatch.setattr(readable, "SYSTEM_DIRECTORIES", tuple(at(system)))
    monkeypatch.setattr(readable, "SYSTEM_FILES", ())
    monkeypatch.setattr(readable, "_WALKS", {})
    for entry in reversed(at(path)):  # where the fork server finds numpy: the grader's sys.path, first
        monkeypatch.syspath_prepend(entry)
    maps = tmp_path / "maps"
    maps.write_text("".join(f"7f00-7f01 r-xp 00000000 fe:00 1 {library}\n" for library in at(libraries)))
    config = {
        "python_dirs": at(python_dirs),
        "path": at(path),
        "site_dirs": at(site_dirs),
        "hidden": at(hidden),
        "packages": [NUMPY, "simscipy"],
    }
    allowed = readable.derive(config, at(startup), maps=str(maps))
    return allowed, readable.rules(**allowed), readable.root_plan(**allowed), real


def readable_by_rules(rules, path):
    return any(path == granted or path.startswith(granted + "/") for granted, _ in rules)


def readable_in_root(plan, path):
    """Whether the jail's own root shows PATH: beneath a bind, and not under a mask unless bound back."""
    if not any(path == bind or path.startswith(bind + "/") for bind in plan["binds"]):
        return False
    covering = [p for p in plan["masks"] + plan["inner"] if path == p or path.startswith(p + "/")]
    return not covering or max(covering, key=len) in plan["inner"]


def check(derived, readable_paths, hidden_paths):
    allowed, rules, plan, real = derived
    for name in readable_paths:
        path = os.path.join(real, name)
        assert readable_by_rules(rules, path), f"Landlock would not let the jail read {name}"
        assert readable_in_root(plan, path), f"the jail's root would not show {name}"
    for name in hidden_paths:
        path = os.path.join(real, name)
        assert not readable_by_rules(rules, path), f"Landlock would let the jail read {name}"
        assert not readable_in_root(plan, path), f"the jail's root would show {name}"
    return allowed


def test_debian_venv_with_system_site_packages(tmp_path, monkeypatch):
    """Debian and Ubuntu: the standard library in /usr/lib/python3.X, numpy from dist-packages."""
    make(
        tmp_path,
        [
            "usr/lib/python3.11/os.py",
            "usr/lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so",
            f"usr/lib/python3/dist-packages/{NUMPY}/__init__.py",
            f"usr/lib/python3/dist-packages/{NUMPY}/core/_multiarray.so",
            "usr/lib/python3/dist-packages/secretpkg/__init__.py",
            "usr/lib/x86_64-linux-gnu/blas/libblas.so.3",
            "usr/lib/x86_64-linux-gnu/libz.so.1",
            "usr/local/lib/python3.11/dist-packages/localpkg/__init__.py",
            "usr/bin/python3.11",
            "venv/lib/python3.11/site-packages/grader/__init__.py",
            "venv/lib/python3.11/site-packages/otherpkg/__init__.py",
            "venv/bin/python3",
        ],
    )
    derived = derive(
        tmp_path,
        monkeypatch,
        system=["usr/lib", "usr/local/lib"],
        python_dirs=["usr/lib/python3.11", "venv/lib/python3.11"],
        startup=["usr/lib/python311.zip", "usr/lib/python3.11", "usr/lib/python3.11/lib-dynload"],
        path=["venv/lib/python3.11/site-packages", "usr/lib/python3/dist-packages"],
        site_dirs=["venv/lib/python3.11/site-packages", "usr/local/lib/python3.11/dist-packages"],
        libraries=[
            f"usr/lib/python3/dist-packages/{NUMPY}/core/_multiarray.so",
            "usr/lib/x86_64-linux-gnu/blas/libblas.so.3",
        ],
    )
    allowed = check(
        derived,
        [
            "usr/lib/python3.11/os.py",
            "usr/lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so",
            f"usr/lib/python3/dist-packages/{NUMPY}/__init__.py",
            "usr/lib/x86_64-linux-gnu/blas/libblas.so.3",
            "usr/lib/x86_64-linux-gnu/libz.so.1",
        ],
        [
            "usr/lib/python3/dist-packages/secretpkg",
            "usr/local/lib/python3.11/dist-packages/localpkg",
            "venv/lib/python3.11/site-packages/grader",
            "venv/lib/python3.11/site-packages/otherpkg",
            "usr/bin/python3.11",
            "venv/bin",
        ],
    )
    assert allowed["python_dirs"][-1].endswith("usr/lib/python3.11/lib-dynload")  # from the start-up path
    assert not any(path.endswith("python311.zip") for path in allowed["python_dirs"])  # absent: not granted


def test_fedora_lib64(tmp_path, monkeypatch):
    """Fedora and RHEL: the standard library and platform packages under lib64, pure ones under lib."""
    make(
        tmp_path,
        [
            "usr/lib64/python3.12/os.py",
            "usr/lib64/python3.12/lib-dynload/_ssl.cpython-312-x86_64-linux-gnu.so",
            f"usr/lib64/python3.12/site-packages/{NUMPY}/__init__.py",
            "usr/lib64/python3.12/site-packages/secretpkg/__init__.py",
            "usr/lib/python3.12/site-packages/purepkg/__init__.py",
            "usr/lib64/libopenblasp.so.0",
            "usr/lib64/libssl.so.3",
            "usr/local/lib/python3.12/site-packages/localpkg/__init__.py",
        ],
    )
    derived = derive(
        tmp_path,
        monkeypatch,
        system=["usr/lib", "usr/lib64", "usr/local/lib"],
        python_dirs=["usr/lib64/python3.12"],
        startup=["usr/lib64/python312.zip", "usr/lib64/python3.12", "usr/lib64/python3.12/lib-dynload"],
        path=[
            "usr/local/lib/python3.12/site-packages",
            "usr/lib64/python3.12/site-packages",
            "usr/lib/python3.12/site-packages",
        ],
        libraries=["usr/lib64/libopenblasp.so.0"],
    )
    check(
        derived,
        [
            "usr/lib64/python3.12/os.py",
            "usr/lib64/python3.12/lib-dynload/_ssl.cpython-312-x86_64-linux-gnu.so",
            f"usr/lib64/python3.12/site-packages/{NUMPY}/__init__.py",
            "usr/lib64/libopenblasp.so.0",
            "usr/lib64/libssl.so.3",  # for `import ssl`, loaded lazily
        ],
        [
            "usr/lib64/python3.12/site-packages/secretpkg",
            "usr/lib/python3.12/site-packages/purepkg",
            "usr/local/lib/python3.12/site-packages/localpkg",
        ],
    )


def test_conda_in_opt(tmp_path, monkeypatch):
    """conda and mamba (/opt/conda in the Jupyter Docker stacks): libraries in the prefix's lib/."""
    make(
        tmp_path,
        [
            "opt/conda/bin/python3.11",
            "opt/conda/lib/libpython3.11.so.1.0",
            "opt/conda/lib/libopenblas.so.0",
            "opt/conda/lib/libssl.so.3",
            "opt/conda/lib/python3.11/os.py",
            "opt/conda/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so",
            f"opt/conda/lib/python3.11/site-packages/{NUMPY}/__init__.py",
            "opt/conda/lib/python3.11/site-packages/grader/__init__.py",
            "opt/conda/lib/python3.11/site-packages/jupyter_server/__init__.py",
            "opt/conda/pkgs/numpy-1.26.4/info/index.json",
            "opt/conda/envs/other/lib/python3.11/site-packages/theirpkg/__init__.py",
            "opt/conda/etc/jupyter/jupyter_server_config.py",
            "opt/conda/lib/course_helpers/answers.py",  # on sys.path through a .pth: a package directory
            "opt/secret/token",
            "usr/lib/x86_64-linux-gnu/libc.so.6",
        ],
    )
    derived = derive(
        tmp_path,
        monkeypatch,
        system=["usr/lib"],
        python_dirs=["opt/conda/lib/python3.11"],
        startup=["opt/conda/lib/python311.zip", "opt/conda/lib/python3.11", "opt/conda/lib/python3.11/lib-dynload"],
        path=["opt/conda/lib/python3.11/site-packages", "opt/conda/lib/course_helpers"],
        site_dirs=["opt/conda/lib/python3.11/site-packages"],
        libraries=[
            "opt/conda/lib/libpython3.11.so.1.0",
            "opt/conda/lib/libopenblas.so.0",
            "usr/lib/x86_64-linux-gnu/libc.so.6",
        ],
    )
    check(
        derived,
        [
            "opt/conda/lib/python3.11/os.py",
            "opt/conda/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so",
            f"opt/conda/lib/python3.11/site-packages/{NUMPY}/__init__.py",
            "opt/conda/lib/libopenblas.so.0",
            "opt/conda/lib/libssl.so.3",  # beside the libraries numpy loaded: `import ssl` finds it
        ],
        [
            "opt/conda/lib/python3.11/site-packages/grader",
            "opt/conda/lib/python3.11/site-packages/jupyter_server",
            "opt/conda/lib/course_helpers/answers.py",
            "opt/conda/pkgs",
            "opt/conda/envs",
            "opt/conda/etc",
            "opt/conda/bin",
            "opt/secret",
        ],
    )


def test_docker_python_image_in_usr_local(tmp_path, monkeypatch):
    """The official python:3.X images: everything under /usr/local, libpython beside the library."""
    make(
        tmp_path,
        [
            "usr/local/bin/python3.12",
            "usr/local/lib/libpython3.12.so.1.0",
            "usr/local/lib/python3.12/os.py",
            "usr/local/lib/python3.12/lib-dynload/_json.cpython-312-x86_64-linux-gnu.so",
            f"usr/local/lib/python3.12/site-packages/{NUMPY}/__init__.py",
            f"usr/local/lib/python3.12/site-packages/{NUMPY}.libs/libscipy_openblas.so",
            "usr/local/lib/python3.12/site-packages/grader/__init__.py",
            "usr/local/lib/python3.12/site-packages/otherpkg/__init__.py",
        ],
    )
    derived = derive(
        tmp_path,
        monkeypatch,
        system=["usr/lib", "usr/local/lib"],
        python_dirs=["usr/local/lib/python3.12"],
        startup=["usr/local/lib/python312.zip", "usr/local/lib/python3.12", "usr/local/lib/python3.12/lib-dynload"],
        path=["usr/local/lib/python3.12/site-packages"],
        site_dirs=["usr/local/lib/python3.12/site-packages"],
        libraries=[
            "usr/local/lib/libpython3.12.so.1.0",
            f"usr/local/lib/python3.12/site-packages/{NUMPY}.libs/libscipy_openblas.so",
        ],
    )
    check(
        derived,
        [
            "usr/local/lib/python3.12/os.py",
            "usr/local/lib/python3.12/lib-dynload/_json.cpython-312-x86_64-linux-gnu.so",
            f"usr/local/lib/python3.12/site-packages/{NUMPY}/__init__.py",
            f"usr/local/lib/python3.12/site-packages/{NUMPY}.libs/libscipy_openblas.so",
            "usr/local/lib/libpython3.12.so.1.0",
        ],
        [
            "usr/local/lib/python3.12/site-packages/grader",
            "usr/local/lib/python3.12/site-packages/otherpkg",
            "usr/local/bin",
        ],
    )


def test_uv_interpreter_under_a_hidden_home(tmp_path, monkeypatch):
    """uv (and pyenv): the interpreter lives in the home directory, which stays hidden but for it."""
    python = "home/ann/.local/share/uv/python/cpython-3.12.7-linux-x86_64-gnu"
    make(
        tmp_path,
        [
            f"{python}/bin/python3.12",
            f"{python}/lib/python3.12/os.py",
            f"{python}/lib/python3.12/lib-dynload/_json.cpython-312-x86_64-linux-gnu.so",
            f"{python}/lib/python3.12/site-packages/pip/__init__.py",
            f"home/ann/course/.venv/lib/python3.12/site-packages/{NUMPY}/__init__.py",
            "home/ann/course/.venv/lib/python3.12/site-packages/grader/__init__.py",
            "home/ann/course/submissions/bob.py",
            "home/ann/.ssh/id_ed25519",
        ],
    )
    derived = derive(
        tmp_path,
        monkeypatch,
        system=["usr/lib"],
        python_dirs=[f"{python}/lib/python3.12", "home/ann/course/.venv/lib/python3.12"],
        startup=[f"{python}/lib/python312.zip", f"{python}/lib/python3.12", f"{python}/lib/python3.12/lib-dynload"],
        path=["home/ann/course/.venv/lib/python3.12/site-packages"],
        hidden=["home/ann"],
    )
    check(
        derived,
        [
            f"{python}/lib/python3.12/os.py",
            f"{python}/lib/python3.12/lib-dynload/_json.cpython-312-x86_64-linux-gnu.so",
            f"home/ann/course/.venv/lib/python3.12/site-packages/{NUMPY}/__init__.py",
        ],
        [
            f"{python}/lib/python3.12/site-packages/pip",
            f"{python}/bin",
            "home/ann/course/.venv/lib/python3.12/site-packages/grader",
            "home/ann/course/submissions",
            "home/ann/.ssh",
        ],
    )


def test_the_shared_libraries_are_read_from_the_maps_not_guessed(tmp_path):
    """Mapped ELF files count, the interpreter's own executable and data files (locale) do not."""
    make(tmp_path, ["lib/libopenblas.so.0", "share/locale-archive"])
    maps = tmp_path / "maps"
    maps.write_text(
        f"55d0-55d1 r-xp 00000000 fe:00 1 {os.path.realpath(os.sys.executable)}\n"
        f"7f00-7f01 r-xp 00000000 fe:00 2 {tmp_path}/lib/libopenblas.so.0\n"
        f"7f01-7f02 r--p 00000000 fe:00 3 {tmp_path}/share/locale-archive\n"
        "7f02-7f03 rw-p 00000000 00:00 0 [heap]\n"
        "7f03-7f04 rw-p 00000000 00:00 0 \n"
    )
    assert readable.loaded_libraries(str(maps)) == [f"{tmp_path}/lib/libopenblas.so.0"]


@pytest.mark.parametrize(
    "masks, inner, expected",
    [
        (["/a"], ["/a/b"], (["/a"], ["/a/b"])),
        (["/a", "/a/b/site-packages"], ["/a/b"], (["/a", "/a/b/site-packages"], ["/a/b"])),
        (["/a", "/a/c"], [], (["/a"], [])),  # a mask inside a mask: no mount point there, covered already
        (["/a"], ["/a/b", "/a/b/c"], (["/a"], ["/a/b"])),  # bound with its parent
        (["/a", "/a/b/s"], ["/a/b", "/a/b/s/numpy", "/a/bc"], (["/a", "/a/b/s"], ["/a/b", "/a/b/s/numpy", "/a/bc"])),
    ],
)
def test_masks_and_bound_back_paths_nest_parents_first(masks, inner, expected):
    """The jail's root: a mask, the allowed paths inside it, a mask inside one of those, and so on."""
    assert readable.nested(masks, inner) == expected
