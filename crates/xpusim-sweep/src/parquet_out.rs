//! Results as Parquet: one column per CSV column (index INT64, axes and status UTF-8,
//! metrics nullable DOUBLE), one row group per `ROW_GROUP` rows.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use parquet::basic::{LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

use crate::point::Row;
use crate::SweepError;

/// Rows per row group: large enough for efficient column scans, small enough to bound
/// the writer's memory on million-point sweeps.
const ROW_GROUP: usize = 8192;

/// A Parquet results file written row group by row group: rows are pushed in index order
/// and at most [`ROW_GROUP`] of them are held.
pub struct Sink {
    path: std::path::PathBuf,
    n_axes: usize,
    w: SerializedFileWriter<File>,
    buf: Vec<Row>,
}

impl Sink {
    /// Creates `path` with the column names of `header`.
    pub fn create(path: &Path, header: &[String], n_axes: usize) -> Result<Sink, SweepError> {
        let err = |e: parquet::errors::ParquetError| SweepError::io(path, e);
        let mut fields = Vec::with_capacity(header.len());
        for (i, name) in header.iter().enumerate() {
            let t = if i == 0 {
                Type::primitive_type_builder(name, PhysicalType::INT64)
                    .with_repetition(Repetition::REQUIRED)
            } else if i <= n_axes + 1 {
                Type::primitive_type_builder(name, PhysicalType::BYTE_ARRAY)
                    .with_repetition(Repetition::REQUIRED)
                    .with_logical_type(Some(LogicalType::String))
            } else {
                Type::primitive_type_builder(name, PhysicalType::DOUBLE)
                    .with_repetition(Repetition::OPTIONAL)
            };
            fields.push(Arc::new(t.build().map_err(err)?));
        }
        let schema = Arc::new(
            Type::group_type_builder("xpusim_sweep")
                .with_fields(fields)
                .build()
                .map_err(err)?,
        );
        let file = File::create(path).map_err(|e| SweepError::io(path, e))?;
        let w =
            SerializedFileWriter::new(file, schema, Arc::new(WriterProperties::builder().build()))
                .map_err(err)?;
        Ok(Sink {
            path: path.to_path_buf(),
            n_axes,
            w,
            buf: Vec::with_capacity(ROW_GROUP),
        })
    }

    pub fn push(&mut self, r: Row) -> Result<(), SweepError> {
        self.buf.push(r);
        if self.buf.len() == ROW_GROUP {
            self.flush()?;
        }
        Ok(())
    }

    pub fn close(mut self) -> Result<(), SweepError> {
        self.flush()?;
        let path = self.path.clone();
        self.w.close().map_err(|e| SweepError::io(&path, e))?;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SweepError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let (path, n_axes) = (self.path.clone(), self.n_axes);
        let err = |e: parquet::errors::ParquetError| SweepError::io(&path, e);
        let group = std::mem::take(&mut self.buf);
        let mut rg = self.w.next_row_group().map_err(err)?;
        let mut col = 0usize;
        while let Some(mut c) = rg.next_column().map_err(err)? {
            if col == 0 {
                let v: Vec<i64> = group.iter().map(|r| r.index as i64).collect();
                c.typed::<Int64Type>()
                    .write_batch(&v, None, None)
                    .map_err(err)?;
            } else if col <= n_axes + 1 {
                let v: Vec<ByteArray> = group
                    .iter()
                    .map(|r| {
                        let s = if col <= n_axes {
                            &r.axes[col - 1]
                        } else {
                            &r.status
                        };
                        ByteArray::from(s.as_bytes().to_vec())
                    })
                    .collect();
                c.typed::<ByteArrayType>()
                    .write_batch(&v, None, None)
                    .map_err(err)?;
            } else {
                let k = col - n_axes - 2;
                let vals: Vec<f64> = group
                    .iter()
                    .map(|r| r.metrics[k])
                    .filter(|v| !v.is_nan())
                    .collect();
                let def: Vec<i16> = group
                    .iter()
                    .map(|r| i16::from(!r.metrics[k].is_nan()))
                    .collect();
                c.typed::<DoubleType>()
                    .write_batch(&vals, Some(&def), None)
                    .map_err(err)?;
            }
            c.close().map_err(err)?;
            col += 1;
        }
        rg.close().map_err(err)?;
        self.buf = group;
        self.buf.clear();
        Ok(())
    }
}
