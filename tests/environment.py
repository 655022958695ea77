import os
import tempfile

# Tests never touch the developer's data directory.
os.environ.setdefault("ORCHESTRA_DATA_DIR", tempfile.mkdtemp(prefix="orchestra-test-"))
