"""Operations reports: metric history, the report in Markdown, HTML and PDF, the weekly send."""
