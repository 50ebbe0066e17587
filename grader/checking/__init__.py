"""From a returned value to a verdict: the spec, named checks, diagnoses, gradient checks, the grading
loop and the results it produces."""
