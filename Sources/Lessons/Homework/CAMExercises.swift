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
        // Wrong procedures: pool with the mean or the maximum; leave out the bias.
        let meanPooled = maps.map(HomeworkMath.mean)
        let maxPooled = maps.map(HomeworkMath.largest)
        let scoreMistakes = { (weights: [Double], bias: Double) in [
            KnownMistake(.biasForgotten, .number(HomeworkMath.dot(weights, pooled))),
            KnownMistake(.meanInsteadOfSum, .number(HomeworkMath.dot(weights, meanPooled) + bias)),
        ] }
        let catWithoutBias = HomeworkMath.dot(catWeights, pooled), dogWithoutBias = HomeworkMath.dot(dogWeights, pooled)
        let winnerWithoutBias = catWithoutBias == dogWithoutBias ? nil : catWithoutBias > dogWithoutBias ? "cat" : "dog"
        let scoreHint = { (name: String, weights: [Double], bias: Double) in
            Hints(.camScore, nudge: "the \(name)'s weights mix the pooled features, then the \(name)'s bias is added",
                  formula: "S_c = Σ_k w^c_k F^k + b_c",
                  firstStep: "S_\(name) = \(WorkedText.term(weights[0])) · F¹ + \(WorkedText.term(weights[1])) · F² + \(WorkedText.term(bias)), with your F¹ and F² from q1")
        }
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
                         hints: Hints(.camPooling, nudge: "each F^k turns the whole map f_k into one number",
                                      formula: "F^k = Σ_{x,y} f_k(x,y), over all 9 cells (the CAM article's pooling is the sum)",
                                      firstStep: "F¹ = \(WorkedText.sum(HomeworkMath.flatten(maps[0]))), and F² likewise"),
                         mistakes: [KnownMistake(.meanInsteadOfSum, .vector(meanPooled)),
                                    KnownMistake(.maxInsteadOfSum, .vector(maxPooled))]),
                Question(id: "q2", prompt: "What is the score S_cat?", expected: .number(catScore),
                         hints: scoreHint("cat", catWeights, catBias), mistakes: scoreMistakes(catWeights, catBias)),
                Question(id: "q3", prompt: "What is the score S_dog?", expected: .number(dogScore),
                         hints: scoreHint("dog", dogWeights, dogBias), mistakes: scoreMistakes(dogWeights, dogBias)),
                .choice(id: "q4", prompt: "Which class does the network predict?",
                        correct: winner,
                        wrong: [.init(loser, winnerWithoutBias == loser ? .predictionWithoutBias : .predictionSmallerScore)],
                        hints: Hints(.camScore, nudge: "the network predicts the class with the larger score",
                                     formula: "prediction = the class c with the largest S_c = Σ_k w^c_k F^k + b_c",
                                     firstStep: "compare your S_cat from q2 with your S_dog from q3, biases (\(formatNumber(catBias)) and \(formatNumber(dogBias))) included"),
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
        let cells = HomeworkMath.flatten(camMap)
        // Wrong procedures: the maps unweighted, Grad-CAM's ReLU, the bias in every cell; the
        // score without the bias or from the mean; the hottest cell counted from 0, by column or by size.
        let hottestCell = hottest ?? 0
        let largestMagnitude = HomeworkMath.uniqueArgmax(cells.map(abs))
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
                         expected: .vector(cells), points: 2,
                         hints: Hints(.camMap, nudge: "weight each feature map by its w^c_k and add the maps cell by cell",
                                      formula: "M_c(x,y) = Σ_k w^c_k f_k(x,y)",
                                      firstStep: "the top-left cell is M_c(0,0) = \(WorkedText.products(weights, maps.map { $0[0][0] })); the other 8 cells likewise"),
                         mistakes: [
                            KnownMistake(.camWeightsForgotten, .vector(HomeworkMath.flatten(HomeworkMath.weightedSum(maps, [1, 1])))),
                            KnownMistake(.camReLUApplied, .vector(HomeworkMath.flatten(HomeworkMath.relu(camMap)))),
                            KnownMistake(.camBiasInMap, .vector(HomeworkMath.flatten(HomeworkMath.adding(bias, to: camMap)))),
                         ]),
                Question(id: "q2", prompt: "What is the class score S_c? (Use your map: S_c − b_c = Σ_{x,y} M_c.)",
                         expected: .number(score),
                         hints: Hints(.camMap, nudge: "adding up M_c over all cells gives S_c − b_c",
                                      formula: "S_c = Σ_{x,y} M_c(x,y) + b_c",
                                      firstStep: "S_c = (the sum of the 9 cells of your M_c) + \(WorkedText.term(bias))"),
                         mistakes: [KnownMistake(.biasForgotten, .number(HomeworkMath.sum(camMap))),
                                    KnownMistake(.scoreFromMeanOfMap, .number(HomeworkMath.mean(camMap) + bias))]),
                Question(id: "q3", prompt: "Which cell of M_c is the hottest? Number the cells 1…9 row by row.",
                         expected: .integer(hottestCell + 1),
                         hints: Hints(.camMap, nudge: "cells are numbered 1, 2, 3 on the top row, 4, 5, 6 on the middle row, 7, 8, 9 on the bottom row",
                                      formula: "the hottest cell holds the largest value of M_c (not the largest size)",
                                      firstStep: "write your M_c as three rows and label its cells: 1 = M_c(0,0), 2 = M_c(0,1), 3 = M_c(0,2), 4 = M_c(1,0), …, 9 = M_c(2,2)"),
                         mistakes: [
                            KnownMistake(.cellsNumberedFromZero, .integer(hottestCell)),
                            KnownMistake(.cellsNumberedByColumn, .integer(hottestCell % 3 * 3 + hottestCell / 3 + 1)),
                         ] + (largestMagnitude.map { [KnownMistake(.cellLargestMagnitude, .integer($0 + 1))] } ?? [])),
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
    static func upsample(_ map: [[Double]], to size: Int,
                         along upsampleLine: ([Double], Int) -> [Double] = upsample(_:to:)) -> [[Double]] {
        let wide = map.map { upsampleLine($0, size) }
        let columns = (0..<size).map { column in upsampleLine(wide.map { $0[column] }, size) }
        return (0..<size).map { row in columns.map { $0[row] } }
    }

    /// The mistake `align_corners=True`: the end cells of input and output line up, so output
    /// cell i samples s = i·(in − 1)/(out − 1).
    static func upsampleAligningCorners(_ values: [Double], to outputCount: Int) -> [Double] {
        let scale = Double(values.count - 1) / Double(outputCount - 1)
        return (0..<outputCount).map { index in
            let source = Double(index) * scale
            let left = min(Int(source), values.count - 1)
            let right = min(left + 1, values.count - 1)
            let fraction = source - Double(left)
            return (1 - fraction) * values[left] + fraction * values[right]
        }
    }

    /// The mistake nearest-neighbour (PyTorch's `mode="nearest"`): cell i copies ⌊i · in/out⌋.
    static func upsampleNearest(_ values: [Double], to outputCount: Int) -> [Double] {
        (0..<outputCount).map { values[min($0 * values.count / outputCount, values.count - 1)] }
    }

    /// Where output cell `index` of an `outputCount`-long line samples a `count`-long line with
    /// align_corners=False: (left cell, weight of the right cell).
    static func sourcePosition(_ index: Int, count: Int, outputCount: Int) -> (left: Int, fraction: Double) {
        let source = max(0, (Double(index) + 0.5) * Double(count) / Double(outputCount) - 0.5)
        return (Int(source), source - Double(Int(source)))
    }

    /// cam-3: upsample a 2×2 map to 4×4, and what the mean instead of the sum does to S_c.
    static func upsamplingAndMean(_ draw: inout StudentDraw) -> ExerciseContent {
        // Multiples of 4 keep every upsampled value a quarter.
        let small = (0..<2).map { _ in (0..<2).map { _ in Double(4 * draw.int(0...4)) } }
        let large = upsample(small, to: 4)
        let row = draw.int(1...2), column = draw.int(1...2)
        let aligned = upsample(small, to: 4, along: upsampleAligningCorners)
        let nearest = upsample(small, to: 4, along: upsampleNearest)
        let (_, rowFraction) = sourcePosition(row, count: 2, outputCount: 4)
        let (_, firstFraction) = sourcePosition(1, count: 2, outputCount: 4)
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
                         hints: Hints(.camUpsampling,
                                      nudge: "with align_corners=False each output cell samples the input at its own centre, clamped at the edges",
                                      formula: "output cell i samples s = (i + 0.5)·(2/4) − 0.5 (at least 0) and takes (1 − (s − ⌊s⌋))·v[⌊s⌋] + (s − ⌊s⌋)·v[⌊s⌋ + 1], the last cell repeating past the edge",
                                      firstStep: "cell 1 samples s = 1.5 · 0.5 − 0.5 = \(formatNumber(firstFraction)), so it is \(formatNumber(1 - firstFraction)) · \(WorkedText.term(small[0][0])) + \(formatNumber(firstFraction)) · \(WorkedText.term(small[0][1])); cells 0, 2 and 3 likewise"),
                         mistakes: [KnownMistake(.alignCornersTrue, .vector(upsampleAligningCorners(small[0], to: 4))),
                                    KnownMistake(.nearestNeighbour, .vector(upsampleNearest(small[0], to: 4)))]),
                Question(id: "q2", prompt: "What is the value of the 4×4 upsampled map at row \(row), column \(column)?",
                         expected: .number(large[row][column]),
                         hints: Hints(.camUpsampling, nudge: "bilinear interpolation works one direction at a time: along the columns, then along the rows",
                                      formula: "each direction mixes the two nearest cells: (1 − t)·v[⌊s⌋] + t·v[⌊s⌋ + 1], s = (i + 0.5)·(2/4) − 0.5, t = s − ⌊s⌋",
                                      firstStep: "row \(row) samples s = \(formatNumber(Double(row) + 0.5)) · 0.5 − 0.5, so along the column it is \(formatNumber(1 - rowFraction)) · \(WorkedText.list(small[0])) + \(formatNumber(rowFraction)) · \(WorkedText.list(small[1])); then interpolate that pair of values at column \(column)"),
                         mistakes: [KnownMistake(.alignCornersTrue, .number(aligned[row][column])),
                                    KnownMistake(.nearestNeighbour, .number(nearest[row][column]))]),
                .choice(id: "q3",
                        prompt: "Back to 3×3 feature maps: if pooling takes the MEAN, F^k = (1/9) Σ_{x,y} f_k, with the same weights, then S_c − b_c equals",
                        correct: "(1/9) · Σ_{x,y} M_c(x,y)",
                        wrong: [.init("Σ_{x,y} M_c(x,y)", .meanPoolingKeepsSum), .init("9 · Σ_{x,y} M_c(x,y)", .meanPoolingMultiplies),
                                .init("the largest cell of M_c", .meanPoolingIsMax)],
                        hints: Hints(.camPooling, nudge: "the mean is the sum divided by the number of cells, and the score is linear",
                                     formula: "F^k = (1/9) Σ_{x,y} f_k(x,y) and S_c − b_c = Σ_k w^c_k F^k",
                                     firstStep: "substitute: S_c − b_c = Σ_k w^c_k · (1/9) Σ_{x,y} f_k(x,y); now take the 1/9 out of the sum over k"),
                        draw: &draw),
            ])
    }
}
