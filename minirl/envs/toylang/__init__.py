"""A toy language small enough to enumerate: prompts, every sequence, a gold reward, a preference
oracle, and a reference policy trained by supervised fine-tuning (SFT).

* `language`: `ToyLanguage` (prompts, responses, the hidden gold reward), `Preferences`, the
  Bradley-Terry preference oracle (`bradley_terry_label`, `sample_preferences`);
* `policy`: `TabularPolicy` (one logit row per prompt and prefix: it can represent every
  distribution over responses), the corpus writer, `sft` and `reference_policy`.

Exact expectations over all responses are in `minirl.envs.toylang_exact`.
"""

from .language import PROMPTS, VOCAB, Preferences, ToyLanguage, bradley_terry_label, sample_preferences
from .policy import (TabularPolicy, check_policy_pair, reference_policy, sft, writer_corpus, writer_log_probs,
                     writer_logits)

__all__ = ["VOCAB", "PROMPTS", "ToyLanguage", "Preferences", "TabularPolicy", "check_policy_pair",
           "writer_corpus", "writer_logits", "writer_log_probs", "sample_preferences", "bradley_terry_label", "sft",
           "reference_policy"]
