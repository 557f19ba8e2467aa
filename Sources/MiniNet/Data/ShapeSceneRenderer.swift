/// Paints one synthetic scene: a cluttered background, one or more class shapes, pixel noise.
///
/// All geometry is specified for a 32×32 picture and scaled by imageSize / 32. Everything
/// random is drawn from one `SeededGenerator`, in a fixed order, so a scene is a pure
/// function of the generator's starting state.
///
/// Layers, back to front (each composited as  pixel ← pixel + α · (colour − pixel)):
///
///  1. background: a random dark colour (each channel 0…0.45) plus a faint linear gradient
///     (±0.12 per channel);
///  2. clutter: 2–4 thin straight lines and 2–5 dots (radius ≤ 1.3 px), random colours,
///     partly transparent: distractors that are none of the class shapes;
///  3. the shapes, opaque, in random colours whose luminance exceeds the background's by at
///     least `minimumContrast`, upright but tilted by up to ±20°; anti-aliased by 4×4
///     sub-samples per pixel;
///  4. Gaussian noise with a random σ ∈ [0.02, 0.05] on every value, then clamping to 0…1.
///
/// The ground-truth mask of a shape is its coverage: the fraction of a pixel's 16
/// sub-samples inside the shape (0…1). It is computed from the geometry alone, so it marks
/// the shape and nothing of the clutter or noise.
struct ShapeSceneRenderer {
    /// Sub-samples per pixel along each axis (4 × 4 = 16 per pixel).
    static let subsamples = 4
    /// Smallest luminance(shape) − luminance(background), luminance = 0.299 R + 0.587 G + 0.114 B.
    static let minimumContrast: Float = 0.35
    /// Largest tilt of a square or triangle away from upright: 20° in radians.
    static let maximumTilt: Float = 20 * Float.pi / 180
    /// Space kept between the bounding circles of two shapes, in pixels at 32×32.
    static let separation: Float = 2

    let imageSize: Int
    /// imageSize / 32: every length below is given for a 32×32 picture and multiplied by this.
    let scale: Float
    /// [3, H, W]
    var pixels: [Float]

    private init(imageSize: Int) {
        self.imageSize = imageSize
        scale = Float(imageSize) / 32
        pixels = [Float](repeating: 0, count: 3 * imageSize * imageSize)
    }

    /// Renders `kinds.count` non-overlapping shapes whose bounding radii are drawn from
    /// `radiusRange` (pixels at 32×32).
    ///
    /// - Returns: image [3, H, W]; one mask [H, W] per shape; the placements.
    static func render(kinds: [ShapeKind], radiusRange: ClosedRange<Float>, imageSize: Int,
                       generator: inout SeededGenerator) -> (image: Tensor, masks: [Tensor], placements: [ShapePlacement]) {
        var renderer = ShapeSceneRenderer(imageSize: imageSize)
        let background = (0..<3).map { _ in generator.uniform(0, 0.45) }
        renderer.paintBackground(base: background, generator: &generator)
        let placements = renderer.placeShapes(kinds, radiusRange: radiusRange, generator: &generator)
        renderer.paintClutter(generator: &generator)

        var masks = [Tensor]()
        for placement in placements {
            let colour = contrastingColour(to: background, generator: &generator)
            var mask = [Float](repeating: 0, count: imageSize * imageSize)
            renderer.paint(ShapeRegion(placement, imageSize: imageSize), colour: colour, opacity: 1, coverage: &mask)
            masks.append(Tensor(shape: [imageSize, imageSize], data: mask))
        }

        renderer.addNoise(standardDeviation: generator.uniform(0.02, 0.05), generator: &generator)
        return (Tensor(shape: [3, imageSize, imageSize], data: renderer.pixels), masks, placements)
    }

    /// Relative luminance (ITU-R BT.601 weights).
    static func luminance(_ colour: [Float]) -> Float {
        0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]
    }

    /// A random colour at least `minimumContrast` brighter than `background` (luminance):
    /// up to 64 random tries, then white. Shapes are always brighter than the background, so
    /// the network need not learn both polarities of every edge.
    static func contrastingColour(to background: [Float], generator: inout SeededGenerator) -> [Float] {
        let backgroundLuminance = luminance(background)
        for _ in 0..<64 {
            let colour = (0..<3).map { _ in generator.nextUniform() }
            if luminance(colour) - backgroundLuminance >= minimumContrast { return colour }
        }
        return [1, 1, 1]
    }

    /// background(c, x, y) = base_c + a_c · ((x − S/2) cos φ + (y − S/2) sin φ) / (S/2),
    /// with a random direction φ and amplitudes a_c ∈ [−0.12, 0.12]: at most ±0.12 at the rim.
    private mutating func paintBackground(base: [Float], generator: inout SeededGenerator) {
        let angle = Double(generator.uniform(0, 2 * Float.pi))
        let directionX = Float(PortableMath.cos(angle))
        let directionY = Float(PortableMath.sin(angle))
        let amplitudes = (0..<3).map { _ in generator.uniform(-0.12, 0.12) }
        let size = imageSize
        let half = Float(size) / 2
        pixels.withUnsafeMutableBufferPointer { out in
            for y in 0..<size {
                for x in 0..<size {
                    let ramp = ((Float(x) + 0.5 - half) * directionX + (Float(y) + 0.5 - half) * directionY) / half
                    for channel in 0..<3 {
                        out[(channel * size + y) * size + x] = base[channel] + amplitudes[channel] * ramp
                    }
                }
            }
        }
    }

    /// Random radius, rotation and centre for each shape, with every bounding circle inside
    /// the picture (1 px margin) and apart from the others by `separation`.
    ///
    /// Centres are redrawn until no two circles come closer than r₁ + r₂ + separation; after
    /// 100 failed tries all radii shrink by 10 % (a layout always exists once they are small),
    /// so this ends, deterministically.
    private func placeShapes(_ kinds: [ShapeKind], radiusRange: ClosedRange<Float>,
                             generator: inout SeededGenerator) -> [ShapePlacement] {
        var placements = kinds.map { kind -> ShapePlacement in
            let radius = generator.uniform(radiusRange.lowerBound, radiusRange.upperBound) * scale
            // Upright (square with level edges: first corner at 45°; triangle with a corner
            // at the top: −90°, as y grows downward), then tilted by up to ±20°. Full
            // rotations made the task too hard for the lessons' tiny network (≈80 % instead
            // of ≈99 % held-out accuracy after 8 epochs).
            let tilt = generator.uniform(-ShapeSceneRenderer.maximumTilt, ShapeSceneRenderer.maximumTilt)
            let rotation: Float
            switch kind {
            case .circle: rotation = 0
            case .square: rotation = Float.pi / 4 + tilt
            case .triangle: rotation = -Float.pi / 2 + tilt
            }
            return ShapePlacement(kind: kind, centerX: 0, centerY: 0, radius: radius, rotation: rotation)
        }
        let margin = 1 * scale
        let gap = ShapeSceneRenderer.separation * scale
        let size = Float(imageSize)
        while true {
            for _ in 0..<100 {
                for index in placements.indices {
                    let radius = placements[index].radius
                    placements[index].centerX = generator.uniform(radius + margin, size - radius - margin)
                    placements[index].centerY = generator.uniform(radius + margin, size - radius - margin)
                }
                if ShapeSceneRenderer.areSeparated(placements, gap: gap) { return placements }
            }
            for index in placements.indices { placements[index].radius *= 0.9 }
        }
    }

    /// True if every two bounding circles are at least `gap` apart.
    static func areSeparated(_ placements: [ShapePlacement], gap: Float) -> Bool {
        for first in placements.indices {
            for second in placements.indices where second > first {
                let a = placements[first]
                let b = placements[second]
                let dx = a.centerX - b.centerX
                let dy = a.centerY - b.centerY
                let needed = a.radius + b.radius + gap
                if dx * dx + dy * dy < needed * needed { return false }
            }
        }
        return true
    }

    /// 2–4 thin lines (width 0.5–1 px, length 40–100 % of the picture, opacity 0.35–0.8) and
    /// 2–5 dots (radius 0.6–1.3 px, opacity 0.5–1), all in random colours.
    private mutating func paintClutter(generator: inout SeededGenerator) {
        let size = Float(imageSize)
        let lineCount = 2 + generator.integer(below: 3)
        for _ in 0..<lineCount {
            let startX = generator.uniform(0, size)
            let startY = generator.uniform(0, size)
            let angle = Double(generator.uniform(0, 2 * Float.pi))
            let length = generator.uniform(0.4, 1) * size
            let endX = startX + length * Float(PortableMath.cos(angle))
            let endY = startY + length * Float(PortableMath.sin(angle))
            let width = generator.uniform(0.5, 1) * scale
            let colour = (0..<3).map { _ in generator.nextUniform() }
            let opacity = generator.uniform(0.35, 0.8)
            paintLine(from: (startX, startY), to: (endX, endY), width: width, colour: colour, opacity: opacity)
        }
        let dotCount = 2 + generator.integer(below: 4)
        var unusedCoverage = [Float](repeating: 0, count: imageSize * imageSize)
        for _ in 0..<dotCount {
            let dot = ShapePlacement(kind: .circle, centerX: generator.uniform(0, size), centerY: generator.uniform(0, size),
                                     radius: generator.uniform(0.6, 1.3) * scale, rotation: 0)
            let colour = (0..<3).map { _ in generator.nextUniform() }
            let opacity = generator.uniform(0.5, 1)
            paint(ShapeRegion(dot, imageSize: imageSize), colour: colour, opacity: opacity, coverage: &unusedCoverage)
        }
    }

    /// A straight line segment of the given width, anti-aliased analytically: with d the
    /// distance from a pixel centre to the segment,
    ///
    ///     coverage ≈ clamp(width/2 + ½ − d, 0, min(width, 1))
    ///
    /// (a linear ramp across the one-pixel band around the line's edge; exact enough for
    /// clutter, and much cheaper than sub-sampling a line that crosses the whole picture).
    private mutating func paintLine(from start: (Float, Float), to end: (Float, Float), width: Float,
                                    colour: [Float], opacity: Float) {
        let size = imageSize
        let halfWidth = width / 2
        let reach = halfWidth + 1
        let minX = Swift.max(0, Int((Swift.min(start.0, end.0) - reach).rounded(.down)))
        let maxX = Swift.min(size, Int((Swift.max(start.0, end.0) + reach).rounded(.up)))
        let minY = Swift.max(0, Int((Swift.min(start.1, end.1) - reach).rounded(.down)))
        let maxY = Swift.min(size, Int((Swift.max(start.1, end.1) + reach).rounded(.up)))
        guard minX < maxX, minY < maxY else { return }
        let segmentX = end.0 - start.0
        let segmentY = end.1 - start.1
        let lengthSquared = Swift.max(segmentX * segmentX + segmentY * segmentY, 1e-12)
        let peak = Swift.min(width, 1)
        pixels.withUnsafeMutableBufferPointer { out in
            for y in minY..<maxY {
                for x in minX..<maxX {
                    // Closest point of the segment: start + t · segment, t clamped to [0, 1].
                    let px = Float(x) + 0.5 - start.0
                    let py = Float(y) + 0.5 - start.1
                    let t = Swift.min(Swift.max((px * segmentX + py * segmentY) / lengthSquared, 0), 1)
                    let dx = px - t * segmentX
                    let dy = py - t * segmentY
                    let distance = (dx * dx + dy * dy).squareRoot()
                    let coverage = Swift.min(Swift.max(halfWidth + 0.5 - distance, 0), peak)
                    if coverage <= 0 { continue }
                    let alpha = coverage * opacity
                    for channel in 0..<3 {
                        let index = (channel * size + y) * size + x
                        out[index] += alpha * (colour[channel] - out[index])
                    }
                }
            }
        }
    }

    /// Paints `region` with 4×4 sub-samples per pixel; writes each pixel's coverage
    /// (inside sub-samples / 16) into `coverage` [H, W] and composites with
    /// α = coverage · opacity.
    private mutating func paint(_ region: ShapeRegion, colour: [Float], opacity: Float, coverage: inout [Float]) {
        let size = imageSize
        let steps = ShapeSceneRenderer.subsamples
        let step = 1 / Float(steps)
        let perPixel = Float(steps * steps)
        guard region.minX < region.maxX, region.minY < region.maxY else { return }
        pixels.withUnsafeMutableBufferPointer { out in
            coverage.withUnsafeMutableBufferPointer { mask in
                for y in region.minY..<region.maxY {
                    for x in region.minX..<region.maxX {
                        // Two shortcuts that give exactly what counting would: a pixel whose
                        // centre is more than R + 0.75 from the shape's centre has no sub-sample
                        // within R; a pixel whose four corners are inside a convex shape has all
                        // its sub-samples inside.
                        let left = Float(x), top = Float(y)
                        if !region.isNear(left + 0.5, top + 0.5) { continue }
                        var inside = 0
                        if region.contains(left, top) && region.contains(left + 1, top)
                            && region.contains(left, top + 1) && region.contains(left + 1, top + 1) {
                            inside = steps * steps
                        } else {
                            for sy in 0..<steps {
                                let sampleY = top + (Float(sy) + 0.5) * step
                                for sx in 0..<steps where region.contains(left + (Float(sx) + 0.5) * step, sampleY) {
                                    inside += 1
                                }
                            }
                        }
                        if inside == 0 { continue }
                        let fraction = Float(inside) / perPixel
                        mask[y * size + x] = fraction
                        let alpha = fraction * opacity
                        for channel in 0..<3 {
                            let index = (channel * size + y) * size + x
                            out[index] += alpha * (colour[channel] - out[index])
                        }
                    }
                }
            }
        }
    }

    /// value ← clamp(value + σ · z, 0, 1) with z standard normal, for every value.
    private mutating func addNoise(standardDeviation: Float, generator: inout SeededGenerator) {
        pixels.withUnsafeMutableBufferPointer { out in
            // Box–Muller yields normals in pairs; the value count 3·H·W is even for even sizes,
            // and an odd last value takes the first of a fresh pair.
            var index = 0
            while index < out.count {
                let (first, second) = generator.normalPair()
                out[index] = Swift.min(Swift.max(out[index] + standardDeviation * first, 0), 1)
                if index + 1 < out.count {
                    out[index + 1] = Swift.min(Swift.max(out[index + 1] + standardDeviation * second, 0), 1)
                }
                index += 2
            }
        }
    }
}
