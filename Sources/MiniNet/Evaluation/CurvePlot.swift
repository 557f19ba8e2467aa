import Foundation

/// A line plot drawn into an `RGBImage`, for the curves of an evaluation (deletion, insertion,
/// the randomisation cascade): axes with ticks and a light grid, one colour per series, a
/// legend, a title and the two axis labels. Everything is drawn here, pixel by pixel, so a plot
/// looks the same on every machine; the text uses `PlotFont` (DejaVu Sans at 13 pixels, with
/// every Vietnamese letter).
///
///     var plot = CurvePlot(title: "Deletion", xLabel: "fraction of pixels deleted", yLabel: "P(class)")
///     plot.series = [.init(label: "gradcam", x: fractions, y: scores)]
///     try plot.write(to: "deletion.png")
public struct CurvePlot: Sendable {
    public struct Series: Sendable {
        public var label: String
        public var x: [Double]
        public var y: [Double]
        /// Drawn dashed, in grey: a control rather than a method.
        public var isControl: Bool

        public init(label: String, x: [Double], y: [Double], isControl: Bool = false) {
            precondition(x.count == y.count, "a series needs one y per x: \(x.count) and \(y.count)")
            (self.label, self.x, self.y, self.isControl) = (label, x, y, isControl)
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series] = []
    /// Labels for whole-number x values (the steps of the cascade) instead of numeric ticks,
    /// written upwards under the axis.
    public var categories: [String]? = nil
    /// The y axis's range; by default one of round numbers around the data.
    public var yRange: ClosedRange<Double>? = nil
    public var width = 800
    public var height = 500

    public init(title: String, xLabel: String, yLabel: String) {
        (self.title, self.xLabel, self.yLabel) = (title, xLabel, yLabel)
    }

    /// The methods' colours, in order (Tableau 10, which stays readable for most colour
    /// vision); the controls are drawn in greys.
    public static let palette: [(UInt8, UInt8, UInt8)] = [
        (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
        (140, 86, 75), (227, 119, 194), (188, 189, 34), (23, 190, 207), (127, 127, 127),
    ]
    public static let controlGreys: [(UInt8, UInt8, UInt8)] = [(110, 110, 110), (170, 170, 170)]

    public func write(to path: String) throws {
        try rendered().write(to: path)
    }

    // MARK: Layout

    /// Round tick values covering `range`: steps of 1, 2 or 5 × 10^k, about `count` of them.
    public static func ticks(_ range: ClosedRange<Double>, about count: Int = 6) -> [Double] {
        let span = range.upperBound - range.lowerBound
        guard span > 0, span.isFinite else { return [range.lowerBound] }
        // The step nearest to span/(count − 1) among 1, 2 and 5 times a power of ten.
        let rough = span / Double(Swift.max(count - 1, 1))
        let power = pow(10, (log10(rough)).rounded(.down))
        let scaled = rough / power
        let step = (scaled < 1.5 ? 1 : scaled < 3 ? 2 : scaled < 7 ? 5 : 10) * power
        let first = (range.lowerBound / step).rounded(.up)
        let last = (range.upperBound / step).rounded(.down)
        guard first <= last else { return [range.lowerBound] }
        return stride(from: first, through: last, by: 1).map { rounded($0 * step) }
    }

    /// A range of round numbers around `values` (0…1 when they all lie there).
    public static func niceRange(_ values: [Double]) -> ClosedRange<Double> {
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else { return 0...1 }
        if low >= 0 && high <= 1 { return 0...1 }
        let padded = high > low ? low...high : (low - 0.5)...(high + 0.5)
        let round = ticks(padded)
        let step = round.count > 1 ? round[1] - round[0] : padded.upperBound - padded.lowerBound
        return rounded((padded.lowerBound / step).rounded(.down) * step)...rounded((padded.upperBound / step).rounded(.up) * step)
    }

    /// A multiple of a tick's step without the float error of the product (0.6000000000000001).
    static func rounded(_ value: Double) -> Double { (value * 1e9).rounded() / 1e9 }

    /// A tick's text: as few decimals as the step between ticks needs.
    static func tickLabel(_ value: Double, step: Double) -> String {
        let decimals = Swift.max(0, Swift.min(6, Int((-log10(step)).rounded(.up))))
        let text = String(format: "%.\(decimals)f", value)
        return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
    }

    // MARK: Drawing

    public func rendered() -> RGBImage {
        var canvas = Canvas(width: width, height: height)
        let xValues = series.flatMap(\.x), yValues = series.flatMap(\.y)
        let xRange: ClosedRange<Double> = categories.map { 0...Double(Swift.max($0.count - 1, 1)) }
            ?? ((xValues.min() ?? 0)...Swift.max(xValues.max() ?? 1, (xValues.min() ?? 0) + 1e-12))
        let yRange = self.yRange ?? Self.niceRange(yValues)
        let yTicks = Self.ticks(yRange)
        let yStep = yTicks.count > 1 ? yTicks[1] - yTicks[0] : 1
        let yTickLabels = yTicks.map { Self.tickLabel($0, step: yStep) }

        // Margins: the y labels and the y title on the left, the legend on the right, the title
        // above, the x labels and the x title below.
        let legendWidth = (series.map { Canvas.textWidth($0.label) }.max() ?? 0) + 44
        let categoryDepth = (categories ?? []).map(Canvas.textWidth).max() ?? 0
        let left = 12 + PlotFont.lineHeight + 8 + (yTickLabels.map(Canvas.textWidth).max() ?? 0) + 8
        let right = width - 16 - legendWidth
        let top = 16 + PlotFont.lineHeight + 12
        let bottom = height - (12 + PlotFont.lineHeight + 8 + (categories == nil ? PlotFont.lineHeight : categoryDepth) + 10)
        guard right - left > 20, bottom - top > 20 else { return canvas.image }
        func px(_ x: Double) -> Double { Double(left) + (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * Double(right - left) }
        func py(_ y: Double) -> Double { Double(bottom) - (y - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * Double(bottom - top) }

        let black: (UInt8, UInt8, UInt8) = (0, 0, 0)
        let grid: (UInt8, UInt8, UInt8) = (228, 228, 228)
        // Grid and y ticks.
        for (value, label) in zip(yTicks, yTickLabels) {
            let y = Int(py(value).rounded())
            canvas.fillRectangle(x: left, y: y, width: right - left, height: 1, color: grid)
            canvas.fillRectangle(x: left - 5, y: y, width: 5, height: 1, color: black)
            canvas.drawText(label, x: left - 8 - Canvas.textWidth(label), y: y - PlotFont.baseline + 5, color: black)
        }
        // x ticks: numbers, or the categories written upwards.
        if let categories {
            for (index, name) in categories.enumerated() {
                let x = Int(px(Double(index)).rounded())
                canvas.fillRectangle(x: x, y: top, width: 1, height: bottom - top, color: grid)
                canvas.fillRectangle(x: x, y: bottom, width: 1, height: 5, color: black)
                canvas.drawTextUpwards(name, x: x - PlotFont.lineHeight / 2, y: bottom + 8 + Canvas.textWidth(name), color: black)
            }
        } else {
            let xTicks = Self.ticks(xRange)
            let xStep = xTicks.count > 1 ? xTicks[1] - xTicks[0] : 1
            for value in xTicks {
                let x = Int(px(value).rounded())
                let label = Self.tickLabel(value, step: xStep)
                canvas.fillRectangle(x: x, y: top, width: 1, height: bottom - top, color: grid)
                canvas.fillRectangle(x: x, y: bottom, width: 1, height: 5, color: black)
                canvas.drawText(label, x: x - Canvas.textWidth(label) / 2, y: bottom + 7, color: black)
            }
        }
        // Axes.
        canvas.fillRectangle(x: left, y: top, width: 1, height: bottom - top + 1, color: black)
        canvas.fillRectangle(x: left, y: bottom, width: right - left + 1, height: 1, color: black)

        // The series, controls first so that the methods are drawn over them.
        let colours = seriesColours()
        for index in series.indices.sorted(by: { series[$0].isControl && !series[$1].isControl }) {
            let line = series[index]
            let points = zip(line.x, line.y).filter { $0.1.isFinite }.map { (px($0.0), py(Swift.min(Swift.max($0.1, yRange.lowerBound), yRange.upperBound))) }
            for (a, b) in zip(points, points.dropFirst()) {
                canvas.drawLine(from: a, to: b, thickness: 2, color: colours[index], dashed: line.isControl)
            }
            if points.count <= 40 {
                for point in points { canvas.fillDisc(centre: point, radius: 3, color: colours[index]) }
            }
        }

        // Title, axis labels, legend.
        canvas.drawText(title, x: (width - Canvas.textWidth(title)) / 2, y: 12, color: black)
        canvas.drawText(xLabel, x: left + (right - left - Canvas.textWidth(xLabel)) / 2, y: height - 12 - PlotFont.lineHeight, color: black)
        canvas.drawTextUpwards(yLabel, x: 12, y: top + (bottom - top + Canvas.textWidth(yLabel)) / 2, color: black)
        for (index, line) in series.enumerated() {
            let y = top + 6 + index * (PlotFont.lineHeight + 6)
            let middle = Double(y + PlotFont.lineHeight / 2)
            canvas.drawLine(from: (Double(right + 16), middle), to: (Double(right + 40), middle), thickness: 2,
                            color: colours[index], dashed: line.isControl)
            canvas.drawText(line.label, x: right + 46, y: y, color: black)
        }
        return canvas.image
    }

    /// The methods in the palette's order, the controls in greys.
    func seriesColours() -> [(UInt8, UInt8, UInt8)] {
        var method = 0, control = 0
        return series.map { line in
            if line.isControl {
                defer { control += 1 }
                return Self.controlGreys[control % Self.controlGreys.count]
            }
            defer { method += 1 }
            return Self.palette[method % Self.palette.count]
        }
    }
}

/// A white RGB picture to draw on, with anti-aliased lines and text.
struct Canvas {
    let width: Int
    let height: Int
    var pixels: [UInt8]

    init(width: Int, height: Int) {
        (self.width, self.height) = (width, height)
        pixels = [UInt8](repeating: 255, count: width * height * 3)
    }

    var image: RGBImage { RGBImage(width: width, height: height, pixels: pixels) }

    /// Mixes `color` into the pixel at (x, y) with weight `coverage` (0…1); outside: nothing.
    mutating func blend(x: Int, y: Int, color: (UInt8, UInt8, UInt8), coverage: Double) {
        guard x >= 0, y >= 0, x < width, y < height, coverage > 0 else { return }
        let a = Swift.min(coverage, 1)
        let index = (y * width + x) * 3
        for (offset, value) in [color.0, color.1, color.2].enumerated() {
            let mixed = Double(pixels[index + offset]) * (1 - a) + Double(value) * a
            pixels[index + offset] = UInt8(Swift.max(0, Swift.min(255, mixed.rounded())))
        }
    }

    mutating func fillRectangle(x: Int, y: Int, width: Int, height: Int, color: (UInt8, UInt8, UInt8)) {
        guard width > 0, height > 0 else { return }
        for row in y..<(y + height) { for column in x..<(x + width) { blend(x: column, y: row, color: color, coverage: 1) } }
    }

    /// A segment `thickness` pixels wide: each pixel is covered by how far its centre lies
    /// inside the band of half-width t/2 around the segment (a one-pixel soft edge). Dashed:
    /// 8 pixels drawn, 5 left out, along the segment.
    mutating func drawLine(from a: (Double, Double), to b: (Double, Double), thickness: Double,
                           color: (UInt8, UInt8, UInt8), dashed: Bool = false) {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1)
        let length = (dx * dx + dy * dy).squareRoot()
        let half = thickness / 2
        let reach = Int(half.rounded(.up)) + 1
        for row in (Int(Swift.min(a.1, b.1)) - reach)...(Int(Swift.max(a.1, b.1)) + reach) {
            for column in (Int(Swift.min(a.0, b.0)) - reach)...(Int(Swift.max(a.0, b.0)) + reach) {
                let (cx, cy) = (Double(column) + 0.5, Double(row) + 0.5)
                // The nearest point of the segment: a + t (b − a), t clamped to 0…1.
                let t = length > 0 ? Swift.max(0, Swift.min(1, ((cx - a.0) * dx + (cy - a.1) * dy) / (length * length))) : 0
                if dashed && (t * length).truncatingRemainder(dividingBy: 13) >= 8 { continue }
                let (nx, ny) = (a.0 + t * dx - cx, a.1 + t * dy - cy)
                let distance = (nx * nx + ny * ny).squareRoot()
                blend(x: column, y: row, color: color, coverage: half + 0.5 - distance)
            }
        }
    }

    mutating func fillDisc(centre: (Double, Double), radius: Double, color: (UInt8, UInt8, UInt8)) {
        let reach = Int(radius.rounded(.up)) + 1
        for row in (Int(centre.1) - reach)...(Int(centre.1) + reach) {
            for column in (Int(centre.0) - reach)...(Int(centre.0) + reach) {
                let (x, y) = (Double(column) + 0.5 - centre.0, Double(row) + 0.5 - centre.1)
                blend(x: column, y: row, color: color, coverage: radius + 0.5 - (x * x + y * y).squareRoot())
            }
        }
    }

    // MARK: Text

    struct Glyph {
        var advance: Int
        var left: Int
        var width: Int
        /// Coverage 0…15, row by row, `PlotFont.lineHeight` rows.
        var coverage: [UInt8]
    }

    static let glyphs: [Character: Glyph] = {
        var glyphs: [Character: Glyph] = [:]
        for (character, advance, left, width, hex) in PlotFont.table {
            glyphs[character] = Glyph(advance: advance, left: left, width: width,
                                      coverage: hex.map { UInt8($0.hexDigitValue ?? 0) })
        }
        return glyphs
    }()

    /// A character the font lacks is drawn as "?".
    static func glyph(_ character: Character) -> Glyph {
        glyphs[character] ?? glyphs[Character(character.unicodeScalars.first.map { String($0) } ?? "?")] ?? glyphs["?"]!
    }

    static func textWidth(_ text: String) -> Int { text.reduce(0) { $0 + glyph($1).advance } }

    /// `text` on one line, its line box's top-left corner at (x, y).
    mutating func drawText(_ text: String, x: Int, y: Int, color: (UInt8, UInt8, UInt8)) {
        var pen = x
        for character in text {
            let glyph = Self.glyph(character)
            for row in 0..<PlotFont.lineHeight {
                for column in 0..<glyph.width {
                    let value = glyph.coverage[row * glyph.width + column]
                    if value > 0 { blend(x: pen + glyph.left + column, y: y + row, color: color, coverage: Double(value) / 15) }
                }
            }
            pen += glyph.advance
        }
    }

    /// `text` read from bottom to top (turned a quarter to the left), starting at (x, y), the
    /// line box `PlotFont.lineHeight` wide to the right of x.
    mutating func drawTextUpwards(_ text: String, x: Int, y: Int, color: (UInt8, UInt8, UInt8)) {
        var pen = y
        for character in text {
            let glyph = Self.glyph(character)
            for row in 0..<PlotFont.lineHeight {
                for column in 0..<glyph.width {
                    let value = glyph.coverage[row * glyph.width + column]
                    if value > 0 { blend(x: x + row, y: pen - glyph.left - column, color: color, coverage: Double(value) / 15) }
                }
            }
            pen -= glyph.advance
        }
    }
}
