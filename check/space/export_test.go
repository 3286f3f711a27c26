package space

// SetLeafSize sets the size under which the index scans instead of
// searching a tree, and returns a function restoring it.
func SetLeafSize(n int) (restore func()) {
	old := leafSize
	leafSize = n
	return func() { leafSize = old }
}

// SetFlowBudget sets Flow's budget of rule splits, and returns a function
// restoring it.
func SetFlowBudget(n int) (restore func()) {
	old := flowBudget
	flowBudget = n
	return func() { flowBudget = old }
}
