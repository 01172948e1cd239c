"""Checks of the notebooks. `check_notebooks.py stripped DIR`: the notebooks in git carry no outputs, no execution
counts and the xeus-cling kernel spec xcpp17. `check_notebooks.py executed DIR`: executed copies have every code cell
run, no error output, and a plot (image/svg+xml) wherever the source calls ShowSvg."""

import glob
import os
import sys

import nbformat

mode, directory = sys.argv[1], sys.argv[2]
paths = sorted(glob.glob(os.path.join(directory, "*.ipynb")))
problems = []
if not paths:
    problems.append("no notebooks in " + directory)
for path in paths:
    name = os.path.basename(path)
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    if mode == "stripped":
        if nb.metadata.get("kernelspec", {}).get("name") != "xcpp17":
            problems.append(name + ": kernel spec is not xcpp17")
        for i, cell in enumerate(code):
            if cell.get("outputs") or cell.get("execution_count") is not None:
                problems.append("%s: code cell %d has outputs or an execution count (strip them)" % (name, i + 1))
    else:
        for i, cell in enumerate(code):
            if cell.get("execution_count") is None:
                problems.append("%s: code cell %d did not run" % (name, i + 1))
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    problems.append("%s: code cell %d: %s: %s" % (name, i + 1, output.ename, output.evalue))
            if "ShowSvg(" in cell.source and not any(
                    "image/svg+xml" in o.get("data", {}) for o in cell.get("outputs", [])):
                problems.append("%s: code cell %d calls ShowSvg but shows no plot" % (name, i + 1))
        print("%s: %d code cells ran" % (name, len(code)))
for problem in problems:
    print("FAIL " + problem)
sys.exit(1 if problems else 0)
