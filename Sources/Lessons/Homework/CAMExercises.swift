// CAM homework (Zhou et al. 2016). Notation of the article:
//   F^k = Σ_{x,y} f_k(x,y)            global average pooling (the article uses the sum)
//   S_c = Σ_k w^c_k F^k + b_c          class score
//   M_c(x,y) = Σ_k w^c_k f_k(x,y)      class activation map, so S_c − b_c = Σ_{x,y} M_c(x,y)

enum CAMExercises {
    /// cam-1: pool two feature maps, score two classes, pick the winner.
    static func scores(_ draw: inout StudentDraw) -> ExerciseContent {
        var maps: [[[Double]]]
        var catWeights: [Double], dogWeights: [Double]
        var catBias: Double, dogBias: Double
        var pooled: [Double], catScore: Double, dogScore: Double
        repeat {
            maps = [draw.matrix(3, 3, in: 0...3), draw.matrix(3, 3, in: 0...3)]
            catWeights = [Double(draw.nonZeroInt(-2...3)), Double(draw.nonZeroInt(-2...3))]
            dogWeights = [Double(draw.nonZeroInt(-2...3)), Double(draw.nonZeroInt(-2...3))]
            catBias = Double(draw.int(-2...2))
            dogBias = Double(draw.int(-2...2))
            pooled = maps.map(HomeworkMath.sum)
            catScore = HomeworkMath.dot(catWeights, pooled) + catBias
            dogScore = HomeworkMath.dot(dogWeights, pooled) + dogBias
        } while catScore == dogScore

        let winner = catScore > dogScore ? "cat" : "dog"
        let loser = winner == "cat" ? "dog" : "cat"
        return ExerciseContent(
            introduction: """
                The last convolution of a tiny network outputs two 3×3 feature maps f₁, f₂. \
                Global average pooling turns each map into one number F^k = Σ_{x,y} f_k(x,y) \
                (the CAM article uses the sum), and a linear layer scores two classes: \
                S_c = Σ_k w^c_k F^k + b_c.
                """,
            given: [
                .matrix("f₁", maps[0]), .matrix("f₂", maps[1]),
                .vector("w^cat", catWeights), .number("b_cat", catBias),
                .vector("w^dog", dogWeights), .number("b_dog", dogBias),
            ],
            questions: [
                Question(id: "q1", prompt: "What are the pooled features [F¹, F²]?",
                         expected: .vector(pooled),
                         hint: LessonStep.camPooling.hint("F^k adds up every cell of map k")),
                Question(id: "q2", prompt: "What is the score S_cat?", expected: .number(catScore),
                         hint: LessonStep.camScore.hint("S_c = Σ_k w^c_k F^k + b_c; do not forget the bias")),
                Question(id: "q3", prompt: "What is the score S_dog?", expected: .number(dogScore),
                         hint: LessonStep.camScore.hint("S_c = Σ_k w^c_k F^k + b_c; do not forget the bias")),
                .choice(id: "q4", prompt: "Which class does the network predict?",
                        correct: winner, wrong: [loser],
                        hint: LessonStep.camScore.hint("the prediction is the class with the largest score"),
                        draw: &draw),
            ])
    }

    /// cam-2: build M_c cell by cell and check that it adds up to the score.
    static func activationMap(_ draw: inout StudentDraw) -> ExerciseContent {
        var maps: [[[Double]]], weights: [Double], bias: Double
        var camMap: [[Double]], hottest: Int?
        repeat {
            maps = [draw.matrix(3, 3, in: 0...3), draw.matrix(3, 3, in: 0...3)]
            weights = [Double(draw.nonZeroInt(-2...3)), Double(draw.nonZeroInt(-2...3))]
            bias = Double(draw.int(-2...2))
            camMap = HomeworkMath.weightedSum(maps, weights)
            hottest = HomeworkMath.uniqueArgmax(HomeworkMath.flatten(camMap))
        } while hottest == nil

        let score = HomeworkMath.sum(camMap) + bias
        return ExerciseContent(
            introduction: """
                Two 3×3 feature maps f₁, f₂ feed global average pooling (the sum, F^k = Σ_{x,y} f_k) \
                and a linear layer. The class c has weights w^c and bias b_c. \
                Write maps row by row: 9 numbers, top row first.
                """,
            given: [.matrix("f₁", maps[0]), .matrix("f₂", maps[1]),
                    .vector("w^c", weights), .number("b_c", bias)],
            questions: [
                Question(id: "q1", prompt: "What is the class activation map M_c (9 numbers, row by row)?",
                         expected: .vector(HomeworkMath.flatten(camMap)), points: 2,
                         hint: LessonStep.camMap.hint("M_c(x,y) = Σ_k w^c_k f_k(x,y), weight each map and add cell by cell")),
                Question(id: "q2", prompt: "What is the class score S_c? (Use your map: S_c − b_c = Σ_{x,y} M_c.)",
                         expected: .number(score),
                         hint: LessonStep.camMap.hint("summing M_c over all cells gives S_c − b_c")),
                Question(id: "q3", prompt: "Which cell of M_c is the hottest? Number the cells 1…9 row by row.",
                         expected: .integer((hottest ?? 0) + 1),
                         hint: LessonStep.camMap.hint("cells are numbered 1, 2, 3 on the top row, 4, 5, 6 on the middle row")),
            ])
    }

    /// PyTorch's `interpolate(mode: "bilinear", align_corners: false)` along one axis:
    /// output cell i looks at source coordinate s = (i + ½)·(in/out) − ½, clamped to ≥ 0,
    /// and mixes cells ⌊s⌋ and ⌊s⌋+1 (the last cell repeats past the edge).
    static func upsample(_ values: [Double], to outputCount: Int) -> [Double] {
        let scale = Double(values.count) / Double(outputCount)
        return (0..<outputCount).map { index in
            let source = max(0, (Double(index) + 0.5) * scale - 0.5)
            let left = Int(source)
            let right = min(left + 1, values.count - 1)
            let fraction = source - Double(left)
            return (1 - fraction) * values[left] + fraction * values[right]
        }
    }

    /// Bilinear is separable: upsample every row, then every column.
    static func upsample(_ map: [[Double]], to size: Int) -> [[Double]] {
        let wide = map.map { upsample($0, to: size) }
        let columns = (0..<size).map { column in upsample(wide.map { $0[column] }, to: size) }
        return (0..<size).map { row in columns.map { $0[row] } }
    }

    /// cam-3: upsample a 2×2 map to 4×4, and what the mean instead of the sum does to S_c.
    static func upsamplingAndMean(_ draw: inout StudentDraw) -> ExerciseContent {
        // Multiples of 4 keep every upsampled value a quarter.
        let small = (0..<2).map { _ in (0..<2).map { _ in Double(4 * draw.int(0...4)) } }
        let large = upsample(small, to: 4)
        let row = draw.int(1...2), column = draw.int(1...2)
        return ExerciseContent(
            introduction: """
                A class activation map is computed at 2×2 and must be upsampled to the 4×4 image \
                with bilinear interpolation, align_corners=False (PyTorch's default). Rows and \
                columns are numbered from 0.
                """,
            given: [.matrix("M (2×2)", small)],
            questions: [
                Question(id: "q1", prompt: "Upsample the top row of M from 2 to 4 values. What are the 4 values?",
                         expected: .vector(upsample(small[0], to: 4)),
                         hint: LessonStep.camUpsampling.hint(
                            "with align_corners=False output cell i samples source position (i + 0.5)·(2/4) − 0.5, clamped at the edges")),
                Question(id: "q2", prompt: "What is the value of the 4×4 upsampled map at row \(row), column \(column)?",
                         expected: .number(large[row][column]),
                         hint: LessonStep.camUpsampling.hint("bilinear = interpolate along the rows, then along the columns")),
                .choice(id: "q3",
                        prompt: "Back to 3×3 feature maps: if pooling takes the MEAN, F^k = (1/9) Σ_{x,y} f_k, with the same weights, then S_c − b_c equals",
                        correct: "(1/9) · Σ_{x,y} M_c(x,y)",
                        wrong: ["Σ_{x,y} M_c(x,y)", "9 · Σ_{x,y} M_c(x,y)", "the largest cell of M_c"],
                        hint: LessonStep.camPooling.hint("the mean is the sum divided by the number of cells, and the score is linear"),
                        draw: &draw),
            ])
    }
}
