"""The plug-ins of the inputs step (`malwi.engine.inputs`): where scanned code comes from.

- `archive`: safe extraction, the one place where anything scanned is unpacked;
- `registries`: PyPI and npm releases, resolved and fetched with their digests checked;
- `dependencies`: requirements files and npm lockfiles, read into pinned dependencies;
- `lockfiles`: the lock files of uv, Poetry, Pipenv, PDM, yarn and pnpm, by their own formats;
- `environments`: an installed Python environment's site-packages folders, found without running it.
"""
