"""Replace pieces of a learner's code, found by `ast`, keeping every other line where it was.

Tracebacks, cell errors and the grader's messages name the learner's lines, so an
edit never moves one: a replaced statement or expression keeps its number of lines.
"""

import ast


def replace_nodes(code, edits):
    """`code` with each (node, text) of `edits` replaced by its one-line text (`pass` for a statement,
    `None` for an expression), padded to the lines the node spanned. Nodes are from ast.parse(code);
    a node inside one already replaced is left alone."""
    lines = code.split("\n")
    starts, offset = [], 0
    encoded = [line.encode("utf-8") for line in lines]
    for line in encoded:  # ast's columns count UTF-8 bytes
        starts.append(offset)
        offset += len(line) + 1
    data = b"\n".join(encoded)
    spans = sorted(
        (
            starts[node.lineno - 1] + node.col_offset,
            starts[node.end_lineno - 1] + node.end_col_offset,
            id(node),
            node,
            text,
        )
        for node, text in edits
    )
    pieces, position = [], 0
    for start, end, _, node, text in spans:
        if start < position:
            continue
        breaks = "\n" * (node.end_lineno - node.lineno)
        # A statement may be followed by blank lines; an expression spanning lines stays one in brackets.
        text = text + breaks if isinstance(node, ast.stmt) or not breaks else f"({text}{breaks})"
        pieces += [data[position:start], text.encode("utf-8")]
        position = end
    pieces.append(data[position:])
    return b"".join(pieces).decode("utf-8")
