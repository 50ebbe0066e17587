"""The grader inside other tools: nbgrader (GradeTasks, source notebooks, feedback cells)."""
