"""Grading a whole class: `grade batch`, its worker pools, resumable results and the class summary."""
