//! SVG charts drawn with `plotters` (SVG backend): each function returns standalone SVG.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::ReportError;

/// Categorical colours (Tableau 10 and four more), one per group.
const PALETTE: [RGBColor; 14] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(225, 87, 89),
    RGBColor(118, 183, 178),
    RGBColor(89, 161, 79),
    RGBColor(237, 201, 72),
    RGBColor(176, 122, 161),
    RGBColor(255, 157, 167),
    RGBColor(156, 117, 95),
    RGBColor(186, 176, 172),
    RGBColor(40, 40, 40),
    RGBColor(0, 170, 220),
    RGBColor(160, 200, 60),
    RGBColor(120, 60, 20),
];

pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Position of an op family in the IR's family list (anything else, e.g. "host
/// fallback", after all of them): a fixed order and colour for every chart.
fn family_rank(c: &str) -> usize {
    let f = xpusim_hw::support::FAMILIES;
    f.iter().position(|x| *x == c).unwrap_or(f.len())
}

fn err(chart: &str) -> impl Fn(String) -> ReportError + '_ {
    move |msg| ReportError::Chart {
        chart: chart.to_string(),
        msg,
    }
}

/// Runs a drawing closure on an SVG backend and returns the SVG text.
fn svg(
    chart: &str,
    size: (u32, u32),
    f: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), String>,
) -> Result<String, ReportError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(chart)(e.to_string()))?;
        f(&root).map_err(err(chart))?;
        root.present().map_err(|e| err(chart)(e.to_string()))?;
    }
    Ok(out)
}

/// One op on a roofline.
#[derive(Debug, Clone)]
pub struct RoofPoint {
    /// Colour group (e.g. the workload's era).
    pub group: String,
    /// FLOPs per compulsory byte.
    pub intensity: f64,
    /// Achieved FLOP/s.
    pub flops_per_s: f64,
}

/// Roofline: `min(peak, bandwidth × intensity)` and every op at its achieved rate.
pub fn roofline(
    title: &str,
    peak_flops: f64,
    bw_bps: f64,
    pts: &[RoofPoint],
) -> Result<String, ReportError> {
    let pts: Vec<&RoofPoint> = pts
        .iter()
        .filter(|p| p.intensity > 0.0 && p.flops_per_s > 0.0 && p.intensity.is_finite())
        .collect();
    let xs = pts.iter().map(|p| p.intensity);
    let x_lo = xs.clone().fold(1.0f64, f64::min).max(1e-3) / 2.0;
    let x_hi = xs.fold(peak_flops / bw_bps * 4.0, f64::max) * 2.0;
    let y_lo = pts
        .iter()
        .map(|p| p.flops_per_s)
        .fold(peak_flops / 1e3, f64::min)
        / 2.0;
    let y_hi = peak_flops * 2.0;
    let mut groups: Vec<&str> = Vec::new();
    for p in &pts {
        if !groups.contains(&p.group.as_str()) {
            groups.push(&p.group);
        }
    }
    svg("roofline", (760, 460), |root| {
        let mut c = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d((x_lo..x_hi).log_scale(), (y_lo..y_hi).log_scale())
            .map_err(|e| e.to_string())?;
        c.configure_mesh()
            .x_desc("arithmetic intensity (FLOP per byte)")
            .y_desc("achieved FLOP/s")
            .y_label_formatter(&|v| format!("{:.0e}", v))
            .x_label_formatter(&|v| format!("{v:.2}"))
            .draw()
            .map_err(|e| e.to_string())?;
        let n = 120;
        let roof = (0..=n).map(|i| {
            let x = x_lo * (x_hi / x_lo).powf(i as f64 / n as f64);
            (x, (bw_bps * x).min(peak_flops))
        });
        c.draw_series(LineSeries::new(roof, BLACK.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label("roof: min(peak, off-chip BW × intensity)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK.stroke_width(2)));
        for (gi, g) in groups.iter().enumerate() {
            let col = colour(gi);
            c.draw_series(
                pts.iter()
                    .filter(|p| p.group == *g)
                    .map(|p| Circle::new((p.intensity, p.flops_per_s), 3, col.mix(0.75).filled())),
            )
            .map_err(|e| e.to_string())?
            .label(g.to_string())
            .legend(move |(x, y)| Circle::new((x + 8, y), 4, col.filled()));
        }
        c.configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(|e| e.to_string())
    })
}

/// Horizontal stacked bars: per row, the share of time in each category.
pub fn breakdown(
    title: &str,
    rows: &[(String, Vec<(String, f64)>)],
) -> Result<String, ReportError> {
    let mut cats: Vec<String> = Vec::new();
    for (_, parts) in rows {
        for (c, _) in parts {
            if !cats.contains(c) {
                cats.push(c.clone());
            }
        }
    }
    // A fixed order (IR op families, then anything else) keeps each category's colour the
    // same in every breakdown chart of a report.
    cats.sort_by_key(|c| family_rank(c));
    let n = rows.len().max(1);
    let height = 90 + 26 * n as u32;
    let names: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    svg("breakdown", (860, height.max(220)), |root| {
        // The legend gets its own column so that it never hides a bar.
        let (left, right) = root.split_horizontally(700);
        let mut c = ChartBuilder::on(&left)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(170)
            // An integer range is inclusive as a discrete axis: 0..n-1 gives n segments.
            .build_cartesian_2d(0f64..100f64, (0..n - 1).into_segmented())
            .map_err(|e| e.to_string())?;
        c.configure_mesh()
            .disable_y_mesh()
            .x_desc("% of time")
            .y_labels(n)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                    names.get(*i).cloned().unwrap_or_default()
                }
                SegmentValue::Last => String::new(),
            })
            .draw()
            .map_err(|e| e.to_string())?;
        for (ci, cat) in cats.iter().enumerate() {
            let col = colour(family_rank(cat));
            let mut rects = Vec::new();
            for (i, (_, parts)) in rows.iter().enumerate() {
                let total: f64 = parts.iter().map(|p| p.1).sum();
                if total <= 0.0 {
                    continue;
                }
                let before: f64 = parts.iter().take_while(|p| &p.0 != cat).map(|p| p.1).sum();
                if let Some((_, v)) = parts.iter().find(|p| &p.0 == cat) {
                    let x0 = before / total * 100.0;
                    let x1 = (before + v) / total * 100.0;
                    rects.push(Rectangle::new(
                        [
                            (x0, SegmentValue::Exact(i)),
                            (x1, SegmentValue::Exact(i + 1)),
                        ],
                        col.filled(),
                    ));
                }
            }
            c.draw_series(rects).map_err(|e| e.to_string())?;
            let y = 50 + 20 * ci as i32;
            right
                .draw(&Rectangle::new([(8, y), (22, y + 12)], col.filled()))
                .map_err(|e| e.to_string())?;
            right
                .draw(&Text::new(
                    cat.clone(),
                    (28, y),
                    ("sans-serif", 13).into_font(),
                ))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

/// One bar of [`bars`].
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    /// Colour group (op family).
    pub group: String,
    /// Share of the total, 0..1.
    pub share: f64,
}

/// Horizontal bars (one per row, top first), coloured by group, length = share in %.
pub fn bars(title: &str, rows: &[Bar]) -> Result<String, ReportError> {
    let mut groups: Vec<String> = Vec::new();
    for b in rows {
        if !groups.contains(&b.group) {
            groups.push(b.group.clone());
        }
    }
    groups.sort_by_key(|g| family_rank(g));
    let n = rows.len().max(1);
    let x_hi = rows.iter().map(|b| b.share * 100.0).fold(1.0, f64::max) * 1.05;
    let names: Vec<String> = rows.iter().rev().map(|b| b.label.clone()).collect();
    svg("bars", (860, (90 + 24 * n as u32).max(220)), |root| {
        let (left, right) = root.split_horizontally(700);
        let mut c = ChartBuilder::on(&left)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(220)
            .build_cartesian_2d(0f64..x_hi, (0..n - 1).into_segmented())
            .map_err(|e| e.to_string())?;
        c.configure_mesh()
            .disable_y_mesh()
            .x_desc("% of model time")
            .y_labels(n)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                    names.get(*i).cloned().unwrap_or_default()
                }
                SegmentValue::Last => String::new(),
            })
            .draw()
            .map_err(|e| e.to_string())?;
        for (gi, g) in groups.iter().enumerate() {
            let col = colour(family_rank(g));
            let rects = rows
                .iter()
                .enumerate()
                .filter(|(_, b)| &b.group == g)
                .map(|(i, b)| {
                    let y = n - 1 - i;
                    Rectangle::new(
                        [
                            (0.0, SegmentValue::Exact(y)),
                            (b.share * 100.0, SegmentValue::Exact(y + 1)),
                        ],
                        col.filled(),
                    )
                });
            c.draw_series(rects).map_err(|e| e.to_string())?;
            let y = 50 + 20 * gi as i32;
            right
                .draw(&Rectangle::new([(8, y), (22, y + 12)], col.filled()))
                .map_err(|e| e.to_string())?;
            right
                .draw(&Text::new(
                    g.clone(),
                    (28, y),
                    ("sans-serif", 13).into_font(),
                ))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

/// One design on the Pareto scatter.
#[derive(Debug, Clone)]
pub struct ScatterPoint {
    pub label: String,
    pub x: f64,
    pub y: f64,
    pub highlight: bool,
}

/// Scatter of designs (x, y in 0..1 shown as %), highlighted points labelled in red.
pub fn scatter(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    pts: &[ScatterPoint],
) -> Result<String, ReportError> {
    svg("scatter", (760, 480), |root| {
        let mut c = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 18))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..105f64, 0f64..105f64)
            .map_err(|e| e.to_string())?;
        c.configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .draw()
            .map_err(|e| e.to_string())?;
        for p in pts {
            let (col, r) = if p.highlight {
                (RED, 5)
            } else {
                (RGBColor(120, 120, 120), 4)
            };
            let at = (p.x * 100.0, p.y * 100.0);
            c.draw_series(std::iter::once(Circle::new(at, r, col.filled())))
                .map_err(|e| e.to_string())?;
            c.draw_series(std::iter::once(Text::new(
                p.label.clone(),
                (at.0 + 0.8, at.1 + 1.5),
                ("sans-serif", 12).into_font().color(&col),
            )))
            .map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

/// Red (0) → yellow (0.5) → green (1).
fn heat(v: f64) -> RGBColor {
    let v = v.clamp(0.0, 1.0);
    let (r, g) = if v < 0.5 {
        (230.0, 80.0 + 300.0 * v)
    } else {
        (230.0 - 360.0 * (v - 0.5), 230.0)
    };
    RGBColor(r as u8, g as u8, 90)
}

/// Heatmap: one row per design, one column per era, cell = value in 0..1 shown as %.
pub fn heatmap(
    title: &str,
    rows: &[String],
    cols: &[String],
    vals: &[Vec<f64>],
) -> Result<String, ReportError> {
    let (nr, nc) = (rows.len().max(1), cols.len().max(1));
    let height = 110 + 24 * nr as u32;
    // Room for the longest row label (~7 px per character at 12 px) and ~80 px a column.
    let label_px = 7 * rows.iter().map(|r| r.chars().count()).max().unwrap_or(8) as u32 + 16;
    let width = (label_px + 40 + 80 * nc as u32).max(860);
    svg("heatmap", (width, height), |root| {
        let mut c = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(label_px)
            .build_cartesian_2d((0..nc - 1).into_segmented(), (0..nr - 1).into_segmented())
            .map_err(|e| e.to_string())?;
        let seg = |v: &SegmentValue<usize>, names: &[String]| match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                names.get(*i).cloned().unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        };
        // Rows are drawn top-down in the given order.
        let flipped: Vec<String> = rows.iter().rev().cloned().collect();
        c.configure_mesh()
            .disable_mesh()
            .x_labels(nc)
            .y_labels(nr)
            .x_label_formatter(&|v| seg(v, cols))
            .y_label_formatter(&|v| seg(v, &flipped))
            .draw()
            .map_err(|e| e.to_string())?;
        for (d, row) in vals.iter().enumerate() {
            let y = nr - 1 - d;
            for (e, v) in row.iter().enumerate() {
                c.draw_series(std::iter::once(Rectangle::new(
                    [
                        (SegmentValue::Exact(e), SegmentValue::Exact(y)),
                        (SegmentValue::Exact(e + 1), SegmentValue::Exact(y + 1)),
                    ],
                    heat(*v).filled(),
                )))
                .map_err(|e| e.to_string())?;
                c.draw_series(std::iter::once(Text::new(
                    format!("{:.0}%", v * 100.0),
                    (SegmentValue::CenterOf(e), SegmentValue::CenterOf(y)),
                    ("sans-serif", 12).into_font().color(&BLACK),
                )))
                .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_their_content() {
        let pts = vec![
            RoofPoint {
                group: "llm".into(),
                intensity: 1.0,
                flops_per_s: 1e12,
            },
            RoofPoint {
                group: "cnn".into(),
                intensity: 300.0,
                flops_per_s: 5e14,
            },
        ];
        let s = roofline("r", 1e15, 3e12, &pts).unwrap();
        assert!(s.starts_with("<svg") && s.contains("circle") && s.contains("cnn"));
        let h = heatmap(
            "h",
            &["a".into(), "b".into()],
            &["cnn".into()],
            &[vec![1.0], vec![0.25]],
        )
        .unwrap();
        assert!(h.contains("25%") && h.contains("100%"));
        let b = breakdown(
            "b",
            &[(
                "w".into(),
                vec![("matmul".into(), 3.0), ("conv".into(), 1.0)],
            )],
        )
        .unwrap();
        assert!(b.contains("matmul") && b.contains("<rect"));
        let p = scatter(
            "p",
            "x",
            "y",
            &[ScatterPoint {
                label: "h100".into(),
                x: 0.5,
                y: 0.9,
                highlight: true,
            }],
        )
        .unwrap();
        assert!(p.contains("h100"));
    }
}
