"""UI-free core of thas-tui: pipeline model, commands, runner, readers and parsers."""
