"""How values are written into what people read, shared by every renderer (report.py and
integrations/gradescope_results.py, which must not import each other)."""


def points(value):
    return f"{value:g}"


def cell_error_text(error):
    return f"{error.where}: {error.type}: {error.message}"
