//! SVG charts drawn with `plotters` (SVG backend): each function returns standalone SVG.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::ReportError;

/// Categorical colours, one per group, safe for the common colour-vision deficiencies:
/// the eight of Okabe & Ito ("Color Universal Design", 2008; black last, for the ninth
/// group) after six of Paul Tol's "muted" scheme (Tol, "Colour Schemes", SRON 2021) that
/// the Okabe–Ito set lacks. Groups beyond 14 repeat colours.
const PALETTE: [RGBColor; 14] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(240, 228, 66),  // yellow
    RGBColor(0, 0, 0),       // black
    RGBColor(51, 34, 136),   // Tol indigo
    RGBColor(136, 34, 85),   // Tol wine
    RGBColor(153, 153, 51),  // Tol olive
    RGBColor(68, 170, 153),  // Tol teal
    RGBColor(221, 204, 119), // Tol sand
    RGBColor(204, 102, 119), // Tol rose
];

/// Highlighted points: Okabe–Ito vermillion, apart from the grey of the others in hue
/// and in lightness.
const HIGHLIGHT: RGBColor = RGBColor(213, 94, 0);

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

/// Scatter of designs (x, y in 0..1 shown as %), highlighted points larger and in
/// vermillion. Labels are placed where they overlap no earlier label (highlighted points
/// first), trying eight positions around each point.
pub fn scatter(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    pts: &[ScatterPoint],
) -> Result<String, ReportError> {
    let labels = place_labels(pts);
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
        for (p, at_label) in pts.iter().zip(&labels) {
            let (col, r) = if p.highlight {
                (HIGHLIGHT, 5)
            } else {
                (RGBColor(120, 120, 120), 4)
            };
            let at = (p.x * 100.0, p.y * 100.0);
            c.draw_series(std::iter::once(Circle::new(at, r, col.filled())))
                .map_err(|e| e.to_string())?;
            c.draw_series(std::iter::once(Text::new(
                p.label.clone(),
                *at_label,
                ("sans-serif", 12).into_font().color(&col),
            )))
            .map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

/// Label anchors (top-left, data units) for `pts`: for each label, highlighted points
/// first, the first of eight positions around its point whose box overlaps no label
/// placed before it (the nearest position when all do). Boxes are estimated from the
/// chart's scale: ~6.4 px per x unit and ~3.6 px per y unit on the 760 × 480 canvas, 7 px
/// per character and 14 px per line of the 12 px font.
fn place_labels(pts: &[ScatterPoint]) -> Vec<(f64, f64)> {
    const X_PX: f64 = 6.4;
    const Y_PX: f64 = 3.6;
    let mut order: Vec<usize> = (0..pts.len()).collect();
    order.sort_by_key(|&i| !pts[i].highlight);
    let mut placed: Vec<(f64, f64, f64, f64)> = Vec::new();
    let mut out = vec![(0.0, 0.0); pts.len()];
    for i in order {
        let p = &pts[i];
        let (x, y) = (p.x * 100.0, p.y * 100.0);
        let w = 7.0 * p.label.chars().count() as f64 / X_PX;
        let h = 14.0 / Y_PX;
        let (dx, dy) = (1.0, 1.0);
        // Text anchors are the top-left corner; y grows upwards in data units.
        let candidates = [
            (x + dx, y + h + dy),
            (x + dx, y - dy),
            (x - dx - w, y + h + dy),
            (x - dx - w, y - dy),
            (x - w / 2.0, y + h + 2.0 * dy),
            (x - w / 2.0, y - 2.0 * dy),
            (x + dx, y + 2.0 * h + dy),
            (x + dx, y - h - dy),
        ];
        let free = |&(ax, ay): &(f64, f64)| {
            placed.iter().all(|&(bx, by, bw, bh)| {
                ax + w <= bx || bx + bw <= ax || ay <= by - bh || by <= ay - h
            })
        };
        let at = candidates
            .iter()
            .copied()
            .find(free)
            .unwrap_or(candidates[0]);
        placed.push((at.0, at.1, w, h));
        out[i] = at;
    }
    out
}

/// Viridis (van der Walt & Smith, matplotlib 2015) at nine even stops: perceptually
/// uniform, readable in greyscale and under every common colour-vision deficiency, unlike
/// the red–green ramp it replaces.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

/// Dark purple (0, far behind) → yellow (1, the best), interpolated between stops.
fn heat(v: f64) -> RGBColor {
    let x = v.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f64;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |p: u8, q: u8| (p as f64 + (q as f64 - p as f64) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Black or white, whichever reads on `bg` (WCAG relative luminance, threshold 0.18).
fn ink(bg: RGBColor) -> RGBColor {
    let lin = |c: u8| {
        let c = c as f64 / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * lin(bg.0) + 0.7152 * lin(bg.1) + 0.0722 * lin(bg.2);
    if l > 0.18 {
        BLACK
    } else {
        WHITE
    }
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
                    ("sans-serif", 12).into_font().color(&ink(heat(*v))),
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
    fn heat_runs_dark_to_light_with_readable_ink() {
        // Viridis is monotone in lightness: a better value is always a lighter cell.
        let lum = |c: RGBColor| 0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64;
        let mut last = -1.0;
        for i in 0..=100 {
            let l = lum(heat(i as f64 / 100.0));
            assert!(l > last, "lightness not increasing at {i}%");
            last = l;
        }
        assert_eq!(heat(0.0), RGBColor(68, 1, 84));
        assert_eq!(heat(1.0), RGBColor(253, 231, 37));
        assert_eq!(ink(heat(0.0)), WHITE);
        assert_eq!(ink(heat(1.0)), BLACK);
    }

    #[test]
    fn labels_of_coincident_points_do_not_overlap() {
        // Six designs at nearly the same spot: the old placement stacked every label.
        let pts: Vec<ScatterPoint> = (0..6)
            .map(|i| ScatterPoint {
                label: format!("design-{i}"),
                x: 0.5 + 0.001 * i as f64,
                y: 0.5,
                highlight: i == 3,
            })
            .collect();
        let at = place_labels(&pts);
        let w = 7.0 * 8.0 / 6.4;
        let h = 14.0 / 3.6;
        for i in 0..at.len() {
            for j in 0..i {
                let (a, b) = (at[i], at[j]);
                let apart = a.0 + w <= b.0 || b.0 + w <= a.0 || a.1 <= b.1 - h || b.1 <= a.1 - h;
                assert!(apart, "labels {i} and {j} overlap: {a:?} {b:?}");
            }
        }
    }

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
