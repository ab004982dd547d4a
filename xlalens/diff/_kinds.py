"""The words a diff is written in: a pair's status and a kernel pair's kind.

Their own module because the records (``_model``), the kernel matcher
(``_kernels``) and the reports (``_report``) all use them, and the records
print themselves through the reports (``Diff.to_text``).
"""

UNCHANGED = "unchanged"
CHANGED = "changed"

# The kinds of a KernelPair (xlalens.diff._kernels decides which applies).
SAME_BODY, CHANGED_BODY, SPLIT, MERGED, REGROUPED, ONLY_A, ONLY_B = (
    "same_body",
    "changed_body",
    "split",
    "merged",
    "regrouped",
    "only_a",
    "only_b",
)
KERNEL_CLASSES = (SAME_BODY, CHANGED_BODY, SPLIT, MERGED, REGROUPED, ONLY_A, ONLY_B)
