import MiniNet

/// The lessons' pictures of signed attributions (IG, LRP, the gradient), scaled as Captum's
/// `visualize_image_attr` scales them (`AttributionDisplay`): by the value at which the sorted
/// |values| reach 99% of their total, the top 1% clipped. Scaled by max |value| instead, one
/// outlier pixel sets the scale and the rest of the map is nearly white.
enum AttributionPanels {
    /// Captum's `outlier_perc`, as the second article draws its IG map.
    static let outlierPercent = 1.0

    /// - Parameter map: [H, W], any sign
    static func heatmap(_ caption: String, _ map: Tensor) -> Panel {
        .heatmap(caption, AttributionDisplay.normalize(map, sign: .all, outlierPercent: outlierPercent), map: .diverging)
    }

    /// - Parameter map: [H, W], any sign
    static func overlay(_ caption: String, _ map: Tensor, on image: RGBImage) -> Panel {
        .overlay(caption, heatmap: AttributionDisplay.normalize(map, sign: .all, outlierPercent: outlierPercent),
                 on: image, map: .diverging)
    }
}
