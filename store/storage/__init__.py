"""Storage: the only package that speaks SQL; owns the files in the archive's `.imago/` folder."""
