"""Qt item models over core data, and the progress arithmetic behind the status bar."""
