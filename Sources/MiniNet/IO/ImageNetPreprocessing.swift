// Placeholder until the PIL-exact version lands.
public struct ImageNetPreprocessing {
    public var resizeShorterSide = 256
    public var cropSize = 224
    public init(resizeShorterSide: Int = 256, cropSize: Int = 224) { (self.resizeShorterSide, self.cropSize) = (resizeShorterSide, cropSize) }
    public func resizeAndCrop(_ image: RGBImage) throws -> RGBImage {
        let short = min(image.width, image.height)
        let (w, h) = image.width <= image.height ? (resizeShorterSide, resizeShorterSide * image.height / short) : (resizeShorterSide * image.width / short, resizeShorterSide)
        let resized = RGBImage(tensor: resizeBilinear(image.toTensor(), height: h, width: w))
        let top = (h - cropSize) / 2, left = (w - cropSize) / 2
        let cropped = resized.toTensor()
        var out = Tensor(zeros: [3, cropSize, cropSize])
        for c in 0..<3 { for y in 0..<cropSize { for x in 0..<cropSize { out.data[(c * cropSize + y) * cropSize + x] = cropped.data[(c * h + y + top) * w + x + left] } } }
        return RGBImage(tensor: out)
    }
}
