"""The fixed vocabulary of reject reasons: every input row that is not accepted or merged carries
one.

Set by the readers (``broken_sdf_block``, ``malformed_line``, ``encoding_error``, ``too_many_atoms``
for oversized records), molecule standardization (``drugnet.chem.molecule``) and the table-level
checks (``drugnet.chem.curation``); their meaning is documented in ``drugnet.chem.molecule`` and
docs/outputs.md.
"""

EMPTY_SMILES = "empty_smiles"
UNPARSEABLE_SMILES = "unparseable_smiles"
VALENCE_ERROR = "valence_error"
SANITIZATION_ERROR = "sanitization_error"
NO_ORGANIC_FRAGMENT = "no_organic_fragment"
STANDARDIZATION_FAILED = "standardization_failed"
TOO_MANY_ATOMS = "too_many_atoms"
BROKEN_SDF_BLOCK = "broken_sdf_block"
MALFORMED_LINE = "malformed_line"
ENCODING_ERROR = "encoding_error"
NON_NUMERIC_LABEL = "non_numeric_label"
INVALID_CLASS_LABEL = "invalid_class_label"
TRAILING_TEXT = "trailing_text"
DUPLICATE_ID = "duplicate_id"
RESERVED_ID = "reserved_id"
REASONS = (
    EMPTY_SMILES,
    UNPARSEABLE_SMILES,
    VALENCE_ERROR,
    SANITIZATION_ERROR,
    NO_ORGANIC_FRAGMENT,
    STANDARDIZATION_FAILED,
    TOO_MANY_ATOMS,
    BROKEN_SDF_BLOCK,
    MALFORMED_LINE,
    ENCODING_ERROR,
    NON_NUMERIC_LABEL,
    INVALID_CLASS_LABEL,
    TRAILING_TEXT,
    DUPLICATE_ID,
    RESERVED_ID,
)

# a reader's default cap on atoms per record (all fragments, explicit hydrogens included)
DEFAULT_MAX_RECORD_ATOMS = 1000
