"""The custom NLU pipeline (config.yml): TF-IDF and sentence-embedding features, the intent classifier
and the screen for text the English-only model can't read, plus the reader of NLU example files.

The urgency decision, the last step of the pipeline, is its own package (urgency/).
"""
