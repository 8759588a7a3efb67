package ida

// Metadata returns the OP metadata that follows from the policy (IDA §8,
// ATT §8, ASC §8.6, plus verified_claims_supported for relying parties
// written against the drafts), for the discovery document. The lists
// are the unions over the catalog, so the engine never releases what is not
// advertised. With AnyTrustFramework nothing bounds the data, and only what
// the catalog lists is advertised.
func (e *Engine) Metadata() map[string]any {
	var tfs, ev, docs, checks, records, claims []string
	for _, tf := range e.policy.TrustFrameworks {
		tfs = appendNew(tfs, tf.Identifier)
		ev = appendNew(ev, tf.EvidenceTypes...)
		docs = appendNew(docs, tf.DocumentTypes...)
		checks = appendNew(checks, tf.CheckMethods...)
		records = appendNew(records, tf.ElectronicRecordTypes...)
		claims = appendNew(claims, tf.Claims...)
	}
	m := map[string]any{
		"verified_claims_supported":  true,
		"claims_parameter_supported": true,
	}
	set := func(k string, v []string) {
		if len(v) > 0 {
			m[k] = v
		}
	}
	set("trust_frameworks_supported", tfs)
	set("evidence_supported", ev)
	set("documents_supported", docs)
	set("documents_check_methods_supported", checks)
	set("electronic_records_supported", records)
	set("claims_in_verified_claims_supported", claims)
	set("attachments_supported", e.policy.AttachmentsSupported)
	// The Authority Claims draft (openid-authority-00, "OP Metadata") names
	// authority_claims_supported twice, as a boolean and as a list of
	// sub-claims; the boolean is advertised, when a framework vouches for
	// authority.
	if contains(claims, "authority") {
		m["authority_claims_supported"] = true
	}
	if e.external {
		m["digest_algorithms_supported"] = e.digestAlgs
	}
	fns := e.policy.TransformedClaimsFunctionsSupported
	if len(fns) == 0 {
		fns = FunctionNames()
	}
	m["transformed_claims_functions_supported"] = fns
	if len(e.policy.TransformedClaimsPredefined) > 0 {
		m["transformed_claims_predefined"] = e.policy.TransformedClaimsPredefined
	}
	m["transformed_claims_max_depth"] = e.limits.maxDepth
	m["transformed_claims_max_count"] = e.limits.maxCount
	return m
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		if !contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}
