//! zoo
pub const CATALOG: &[crate::ModelInfo] = &[];
pub(crate) fn build_named(
    _n: &str,
    _w: &crate::Workload,
) -> Result<xpusim_ir::Graph, crate::ModelError> {
    todo!()
}
