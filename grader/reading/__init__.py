"""Reading a learner's file: into code chunks (submission), cut down to its definitions
(definitions), the forbidden imports it holds (forbidden_imports), edited in place (source_edits)."""
