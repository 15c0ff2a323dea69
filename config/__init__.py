"""The process's configuration: typed settings from the environment, checked at start-up,
and the time-zone data every edge uses. Imports nothing of ours."""
