package equiv

// AlignRules lets tests evaluate whole hooks instead of the regions of
// the rules outside the alignment.
var AlignRules = &alignRules
