/// The classes of the synthetic shapes data set. The raw value is the class index (label).
public enum ShapeKind: Int, CaseIterable, Sendable {
    case circle, square, triangle

    /// Lower-case English name, e.g. "circle"; also the class name a classifier prints.
    public var name: String {
        switch self {
        case .circle: return "circle"
        case .square: return "square"
        case .triangle: return "triangle"
        }
    }

    /// Area of the shape when it exactly fills a bounding circle of radius R:
    ///
    ///     circle:   π R²
    ///     square:   2 R²            (side R√2, its half-diagonal is R)
    ///     triangle: (3√3 / 4) R²    (equilateral, side R√3)
    public func area(boundingRadius radius: Float) -> Float {
        switch self {
        case .circle: return Float.pi * radius * radius
        case .square: return 2 * radius * radius
        case .triangle: return 3 * Float(3).squareRoot() / 4 * radius * radius
        }
    }
}

/// Where and how one shape is drawn, in pixel coordinates: pixel (x, y) covers the square
/// [x, x+1) × [y, y+1), so the centre of the top-left pixel is (0.5, 0.5).
///
/// Every shape fits exactly in its bounding circle (centre, `radius`): a circle fills it, a
/// square and an equilateral triangle have their corners on it. Two shapes whose bounding
/// circles are apart therefore cannot overlap.
public struct ShapePlacement: Equatable, Sendable {
    public var kind: ShapeKind
    public var centerX: Float
    public var centerY: Float
    /// Radius of the bounding circle in pixels (for polygons: centre-to-corner distance).
    public var radius: Float
    /// Angle of the first corner in radians, from +x towards +y (clockwise on screen, as y
    /// grows downward); the other corners follow every 2π/n. Ignored for circles.
    public var rotation: Float

    public init(kind: ShapeKind, centerX: Float, centerY: Float, radius: Float, rotation: Float) {
        self.kind = kind
        self.centerX = centerX
        self.centerY = centerY
        self.radius = radius
        self.rotation = rotation
    }
}

/// A point-in-shape test prepared once per shape (so the per-sub-sample test is only a few
/// multiply-adds).
///
/// A regular polygon with n corners on a circle of radius R is the intersection of n
/// half-planes: p is inside iff  n̂ₖ · (p − c) ≤ R cos(π/n)  for every outward edge normal n̂ₖ
/// (R cos(π/n) is the apothem, the distance from the centre to each edge). A circle is
/// |p − c|² ≤ R².
struct ShapeRegion {
    let centerX: Float
    let centerY: Float
    let radiusSquared: Float
    /// (R + 0.75)²: sub-samples lie within 0.375·√2 < 0.75 px of their pixel's centre.
    let nearSquared: Float
    let apothem: Float
    /// Outward unit normals of the polygon's edges (empty for a circle).
    let normalsX: [Float]
    let normalsY: [Float]
    /// Bounding box in pixels, clipped to the image: columns minX..<maxX, rows minY..<maxY.
    let minX: Int, maxX: Int, minY: Int, maxY: Int

    init(_ placement: ShapePlacement, imageSize: Int) {
        centerX = placement.centerX
        centerY = placement.centerY
        radiusSquared = placement.radius * placement.radius
        nearSquared = (placement.radius + 0.75) * (placement.radius + 0.75)
        let corners: Int
        switch placement.kind {
        case .circle: corners = 0
        case .square: corners = 4
        case .triangle: corners = 3
        }
        var normalsX = [Float]()
        var normalsY = [Float]()
        if corners > 0 {
            // Corner k sits at angle rotation + 2πk/n; the edge between corners k and k+1
            // faces outward at the angle halfway between them.
            for edge in 0..<corners {
                let angle = Double(placement.rotation) + Double.pi * Double(2 * edge + 1) / Double(corners)
                normalsX.append(Float(PortableMath.cos(angle)))
                normalsY.append(Float(PortableMath.sin(angle)))
            }
            apothem = placement.radius * Float(PortableMath.cos(Double.pi / Double(corners)))
        } else {
            apothem = placement.radius
        }
        self.normalsX = normalsX
        self.normalsY = normalsY
        minX = Swift.max(0, Int((placement.centerX - placement.radius).rounded(.down)))
        maxX = Swift.min(imageSize, Int((placement.centerX + placement.radius).rounded(.up)) + 1)
        minY = Swift.max(0, Int((placement.centerY - placement.radius).rounded(.down)))
        maxY = Swift.min(imageSize, Int((placement.centerY + placement.radius).rounded(.up)) + 1)
    }

    /// True if (x, y) is within R + 0.75 of the centre.
    @inline(__always)
    func isNear(_ x: Float, _ y: Float) -> Bool {
        let dx = x - centerX
        let dy = y - centerY
        return dx * dx + dy * dy <= nearSquared
    }

    @inline(__always)
    func contains(_ x: Float, _ y: Float) -> Bool {
        let dx = x - centerX
        let dy = y - centerY
        if normalsX.isEmpty { return dx * dx + dy * dy <= radiusSquared }
        for edge in 0..<normalsX.count where normalsX[edge] * dx + normalsY[edge] * dy > apothem {
            return false
        }
        return true
    }
}
