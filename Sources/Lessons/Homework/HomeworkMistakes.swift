/// A wrong answer a known mistake gives on one student's numbers. The answer is computed by
/// running the wrong procedure (next to the right one in the exercise's generator), never typed
/// in; an answer within the question's tolerance of it, and not of the key, is that mistake.
public struct KnownMistake: Equatable, Sendable {
    public var kind: MistakeKind
    /// What the wrong procedure gives on this student's numbers.
    public var answer: ExpectedAnswer

    public init(_ kind: MistakeKind, _ answer: ExpectedAnswer) {
        self.kind = kind
        self.answer = answer
    }

    /// A stable id for scripts and statistics, e.g. "relu-before-sum".
    public var id: String { kind.rawValue }
    /// What went wrong, in words, e.g. "you applied the ReLU to each weighted map before adding them; …".
    public var description: String { kind.description }
}

/// Every mistake the homework recognises, with what it says to the student. The words are kept
/// here, in one table, so that a translation has one place to look.
public enum MistakeKind: String, CaseIterable, Sendable {
    // Pooling, sums and means
    case meanInsteadOfSum = "mean-instead-of-sum"
    case maxInsteadOfSum = "max-instead-of-sum"
    case sumInsteadOfMean = "sum-instead-of-mean"
    case maxInsteadOfMean = "max-instead-of-mean"
    case biasForgotten = "bias-forgotten"

    // CAM
    case predictionWithoutBias = "prediction-without-bias"
    case predictionSmallerScore = "prediction-smaller-score"
    case camWeightsForgotten = "cam-weights-forgotten"
    case camReLUApplied = "cam-relu-applied"
    case camBiasInMap = "cam-bias-in-map"
    case scoreFromMeanOfMap = "score-from-mean-of-map"
    case cellsNumberedFromZero = "cells-numbered-from-0"
    case cellsNumberedByColumn = "cells-numbered-by-column"
    case cellLargestMagnitude = "cell-largest-magnitude"
    case alignCornersTrue = "align-corners-true"
    case nearestNeighbour = "nearest-neighbour"
    case meanPoolingKeepsSum = "mean-pooling-keeps-sum"
    case meanPoolingMultiplies = "mean-pooling-multiplies"
    case meanPoolingIsMax = "mean-pooling-is-max"

    // Grad-CAM
    case gradientSumInsteadOfMean = "gradient-sum-instead-of-mean"
    case weightsFromActivations = "weights-from-activations"
    case reluForgotten = "relu-forgotten"
    case reluBeforeSum = "relu-before-sum"
    case countedNonZeroCells = "counted-non-zero-cells"
    case countedZerosBeforeReLU = "counted-zeros-before-relu"
    case gradientWithoutOneOverZ = "gradient-without-1/z"
    case contributionInsteadOfDerivative = "contribution-instead-of-derivative"
    case weightsFromGradientTimesActivation = "weights-from-gradient-times-activation"
    case headWeightsAsAlpha = "head-weights-as-alpha"
    case versusWithoutReLU = "versus-without-relu"
    case versusTimesNine = "versus-times-9"
    case versusUnrelated = "versus-unrelated"
    case counterfactualNegatedAfterReLU = "counterfactual-negated-after-relu"
    case counterfactualReLUForgotten = "counterfactual-relu-forgotten"
    case reluScales = "relu-scales"
    case reluBecauseGradientsArePositive = "relu-because-gradients-are-positive"
    case reluForUpsampling = "relu-for-upsampling"

    // Ablation-CAM
    case dropNotDivided = "drop-not-divided"
    case dropFromWrongSide = "drop-from-wrong-side"
    case dividedByAblatedScore = "divided-by-ablated-score"
    case importanceFromAblatedScore = "importance-from-ablated-score"
    case importanceFromLargestChange = "importance-from-largest-change"
    case raisesPickedLargestDrop = "raises-picked-largest-drop"
    case ablatedOtherChannel = "ablated-other-channel"
    case ablationRemovedBias = "ablation-removed-bias"
    case passesWithoutUnablated = "passes-without-unablated"
    case passesLikeCAM = "passes-like-cam"
    case ablationWithoutActivations = "ablation-without-activations"
    case ablationWithoutScore = "ablation-without-score"
    case ablationWithoutForward = "ablation-without-forward"

    // More CAMs
    case plusPlusMeanForSum = "plus-plus-mean-for-sum"
    case plusPlusFactorTwoForgotten = "plus-plus-factor-2-forgotten"
    case plusPlusSquareForCube = "plus-plus-square-for-cube"
    case plusPlusWithoutCoefficients = "plus-plus-without-coefficients"
    case plusPlusIsGradCAM = "plus-plus-is-gradcam"
    case plusPlusFiniteDifferences = "plus-plus-finite-differences"
    case plusPlusLogitCurvature = "plus-plus-logit-curvature"
    case plusPlusExponentialChangesMap = "plus-plus-exponential-changes-map"
    case hiResInsteadOfGradCAM = "hirescam-instead-of-gradcam"
    case gradCAMInsteadOfHiRes = "gradcam-instead-of-hirescam"
    case elementWiseInsteadOfHiRes = "elementwise-instead-of-hirescam"
    case hiResKeptOldGradient = "hirescam-kept-old-gradient"
    case hiResTimesZ = "hirescam-times-z"
    case hiResDiffersWhereActivationsVary = "hirescam-differs-where-activations-vary"
    case hiResKeepsNegative = "hirescam-keeps-negative"
    case scoreCAMWithoutExponential = "scorecam-without-exponential"
    case scoreCAMRawScores = "scorecam-raw-scores"
    case layerCAMNegativeGradients = "layercam-negative-gradients"
    case layerCAMWithoutActivations = "layercam-without-activations"
    case elementWiseKeptNegativeProducts = "elementwise-kept-negative-products"
    case scoreCAMClassBlind = "scorecam-class-blind"
    case layerCAMClassBlind = "layercam-class-blind"
    case plusPlusClassBlind = "plus-plus-class-blind"

    // LRP
    case productOfSums = "product-of-sums"
    case absoluteContributions = "absolute-contributions"
    case sharedByWeight = "shared-by-weight"
    case sharedByInput = "shared-by-input"
    case relevanceNotScaled = "relevance-not-scaled"
    case conservedToZ = "conserved-to-z"
    case largestWeight = "largest-weight"
    case largestInput = "largest-input"
    case absoluteInsteadOfReLU = "absolute-instead-of-relu"
    case switchedOffUnitPassed = "switched-off-unit-passed"
    case gradientWithoutInput = "gradient-without-input"
    case sumOfGradient = "sum-of-gradient"
    case lrpIsGradient = "lrp-is-gradient"
    case lrpIsInput = "lrp-is-input"
    case lrpIsWeight = "lrp-is-weight"
    case epsilonWrongSign = "epsilon-wrong-sign"
    case epsilonForgotten = "epsilon-forgotten"
    case absorbedIsEpsilon = "absorbed-is-epsilon"
    case epsilonAbsorbsAll = "epsilon-absorbs-all"
    case epsilonGivesGradient = "epsilon-gives-gradient"
    case epsilonUnbounded = "epsilon-unbounded"

    // Integrated Gradients
    case baselineIgnored = "baseline-ignored"
    case gradientAtInputTimesDistance = "gradient-at-input-times-distance"
    case leftInsteadOfRight = "left-instead-of-right"
    case rightInsteadOfLeft = "right-instead-of-left"
    case stepWidthForgotten = "step-width-forgotten"
    case distanceForgotten = "distance-forgotten"
    case middleAtLeftEnds = "middle-at-left-ends"
    case exactRulesLeftOnly = "exact-rules-left-only"
    case exactRulesRightOnly = "exact-rules-right-only"
    case exactRulesNone = "exact-rules-none"
    case igIsGradientTimesInput = "ig-is-gradient-times-input"
    case gradientAtBaseline = "gradient-at-baseline"
    case gradientTimesInputSum = "gradient-times-input-sum"
    case igInsteadOfGradientTimesInput = "ig-instead-of-gradient-times-input"
    case completenessMisjudged = "completeness-misjudged"
    case igWeightsOnly = "ig-weights-only"
    case otherBaselineUsed = "other-baseline-used"
    case baselineOrderSwapped = "baseline-order-swapped"
    case blackPixelGetsWeight = "black-pixel-gets-weight"
    case blackPixelGetsScore = "black-pixel-gets-score"
    case blackPixelNegative = "black-pixel-negative"
    case gapsCompared = "gaps-compared-wrongly"

    // Evaluating explanations
    case aucLeftSum = "auc-left-sum"
    case aucRightSum = "auc-right-sum"
    case aucMeanOfPoints = "auc-mean-of-points"
    case aucWidthForgotten = "auc-width-forgotten"
    case deletionEndsAtZero = "deletion-ends-at-zero"
    case deletionEndDependsOnMap = "deletion-end-depends-on-map"
    case deletionEndsAtFullScore = "deletion-ends-at-full-score"
    case deletionLargerAreaBetter = "deletion-larger-area-better"
    case deletionSameEndsSameFaithfulness = "deletion-same-ends-same-faithfulness"
    case pointingLargestMagnitude = "pointing-largest-magnitude"
    case massWithNegatives = "mass-with-negatives"
    case massOverAbsolute = "mass-over-absolute"
    case massInsideOverOutside = "mass-inside-over-outside"
    case rankByMagnitude = "rank-by-magnitude"
    case rankPositiveCells = "rank-positive-cells"
    case rankOverAllCells = "rank-over-all-cells"
    case randomMassHalf = "random-mass-half"
    case randomMassOfThisMap = "random-mass-of-this-map"
    case randomMassOneOverM = "random-mass-one-over-m"
    case pearsonInsteadOfSpearman = "pearson-instead-of-spearman"
    case spearmanWithoutSix = "spearman-without-6"
    case spearmanOfValues = "spearman-of-values"
    case cascadeFallingFails = "cascade-falling-fails"
    case cascadePositiveIsEnough = "cascade-positive-is-enough"
    case dataTestAgreementIsGood = "data-test-agreement-is-good"
    case dataTestNetworkLearned = "data-test-network-learned"
    case dataTestMeaningless = "data-test-meaningless"
    case markBrightestMarkedCell = "mark-brightest-marked-cell"
    case markRowColumnSwapped = "mark-row-column-swapped"
    case markCountedFromOne = "mark-counted-from-1"
    case markGainIsShare = "mark-gain-is-share"
    case markGainOfBrightestCell = "mark-gain-of-brightest-cell"
    case markClassThatLoses = "mark-class-that-loses"
    case markClassOtherLoser = "mark-class-other-loser"

    /// What the mistake says to the student, in the reader's language.
    public var description: String { translated(englishDescription) }

    /// What the mistake says to the student, in English: the phrase book's key.
    var englishDescription: String {
        switch self {
        case .meanInsteadOfSum:
            return "you averaged over the cells; here pooling is the SUM of the cells, F^k = Σ_{x,y} f_k(x,y), as in the CAM article"
        case .maxInsteadOfSum:
            return "you took the largest cell (max pooling); F^k adds up every cell"
        case .sumInsteadOfMean:
            return "you added the cells without dividing by their number; global average pooling is the mean"
        case .maxInsteadOfMean:
            return "you took the largest cell (max pooling); global average pooling is the mean of all cells"
        case .biasForgotten:
            return "you left out the bias"

        case .predictionWithoutBias:
            return "without the biases this class would win; the prediction compares the whole scores, biases included"
        case .predictionSmallerScore:
            return "this class has the smaller score; the network predicts the class with the larger one"
        case .camWeightsForgotten:
            return "you added the feature maps without their weights w^c_k"
        case .camReLUApplied:
            return "you applied a ReLU, which is Grad-CAM's last step; the CAM M_c keeps its negative cells"
        case .camBiasInMap:
            return "you added the bias to every cell; the bias is not part of M_c, it enters only the score"
        case .scoreFromMeanOfMap:
            return "you averaged M_c; with sum pooling S_c − b_c is the SUM of its cells"
        case .cellsNumberedFromZero:
            return "you numbered the cells from 0; they are numbered 1 to 9"
        case .cellsNumberedByColumn:
            return "you numbered the cells column by column; they go row by row, 1, 2, 3 on the top row"
        case .cellLargestMagnitude:
            return "you picked the cell of largest size |M_c|; the hottest cell has the largest value, and a large negative cell is the coldest"
        case .alignCornersTrue:
            return "you used align_corners=True (the corner cells line up with the corner samples); PyTorch's default, used here, is align_corners=False"
        case .nearestNeighbour:
            return "you repeated each cell (nearest-neighbour upsampling); bilinear interpolation mixes the two nearest cells"
        case .meanPoolingKeepsSum:
            return "the mean divides every F^k by 9, and the score is linear in the F^k, so the 1/9 carries over to Σ M_c"
        case .meanPoolingMultiplies:
            return "the mean makes F^k smaller, not larger: divide by 9, do not multiply"
        case .meanPoolingIsMax:
            return "the mean still uses every cell; the largest cell alone is max pooling"

        case .gradientSumInsteadOfMean:
            return "you added the gradient's cells instead of averaging them; α is the mean, so divide by Z = 9"
        case .weightsFromActivations:
            return "you averaged the activation maps A^k; α averages the gradient ∂y^c/∂A^k"
        case .reluForgotten:
            return "you left out the ReLU, which turns negative values into 0"
        case .reluBeforeSum:
            return "you applied the ReLU to each weighted map before adding them; add first, then apply one ReLU to the sum"
        case .countedNonZeroCells:
            return "you counted the cells that are not 0"
        case .countedZerosBeforeReLU:
            return "you counted the zeros before the ReLU; count them in L^c, after it"
        case .gradientWithoutOneOverZ:
            return "you left out the 1/Z of the mean: every cell enters y^c through the mean, with factor w^c_k / Z"
        case .contributionInsteadOfDerivative:
            return "you computed the channel's contribution w^c_k · mean(A^k) to y^c; its derivative does not depend on A^k"
        case .weightsFromGradientTimesActivation:
            return "you averaged gradient × activation; α averages the gradient alone"
        case .headWeightsAsAlpha:
            return "you used the head's weights w^c_k, which give CAM's map; Grad-CAM's α^c_k is the mean gradient w^c_k / Z"
        case .versusWithoutReLU:
            return "Grad-CAM ends with a ReLU, so the negative cells of M_c become 0"
        case .versusTimesNine:
            return "α = w / 9, so L^c is ReLU(M_c) divided by 9, not multiplied"
        case .versusUnrelated:
            return "on a pooling + linear head the gradient is w^c_k / Z, which ties the two methods together"
        case .counterfactualNegatedAfterReLU:
            return "you negated after the ReLU; negate the weights first, add, then apply the ReLU"
        case .counterfactualReLUForgotten:
            return "you left out the ReLU of the counterfactual map"
        case .reluScales:
            return "a ReLU scales nothing; it sets the negative values to 0"
        case .reluBecauseGradientsArePositive:
            return "gradients can be negative, which is why some α are"
        case .reluForUpsampling:
            return "bilinear upsampling works on any numbers, negative ones too"

        case .dropNotDivided:
            return "you gave the drop y^c − y^c_k; the weight divides it by the unablated score y^c"
        case .dropFromWrongSide:
            return "you took the drop from the wrong side, (y^c_k − y^c) / y^c; a channel whose removal lowers the score gets a positive weight"
        case .dividedByAblatedScore:
            return "you divided by the ablated score y^c_k; the weight divides by the unablated score y^c"
        case .importanceFromAblatedScore:
            return "you picked the channel with the highest ablated score; the most important channel is the one whose removal costs the most"
        case .importanceFromLargestChange:
            return "you picked the largest change in either direction, but removing that channel raises the score: it speaks against the class"
        case .raisesPickedLargestDrop:
            return "removing that channel lowers the score the most; look for a y^c_k above y^c"
        case .ablatedOtherChannel:
            return "you removed the other channel's term"
        case .ablationRemovedBias:
            return "you removed the bias too; setting a map to zero removes only its own term w_k · mean(A^k)"
        case .passesWithoutUnablated:
            return "you left out the pass with nothing switched off, which gives y^c itself"
        case .passesLikeCAM:
            return "one pass is what CAM needs; Ablation-CAM runs the network again for every channel"
        case .ablationWithoutActivations:
            return "every method of the CAM family weights the activation maps A^k, Ablation-CAM too"
        case .ablationWithoutScore:
            return "the weights are relative drops of y^c, so Ablation-CAM needs it"
        case .ablationWithoutForward:
            return "Ablation-CAM runs only forward passes, one per channel"

        case .plusPlusMeanForSum:
            return "you used the mean of the activation map; a's denominator adds up the whole map, Σ_{a,b} A_ab"
        case .plusPlusFactorTwoForgotten:
            return "you left out the factor 2: the denominator is 2g² + ΣA · g³"
        case .plusPlusSquareForCube:
            return "you used g² where the third derivative needs g³: the denominator is 2g² + ΣA · g³"
        case .plusPlusWithoutCoefficients:
            return "you added the positive gradients without their coefficients a_ij"
        case .plusPlusIsGradCAM:
            return "you took Grad-CAM's weight, the mean of the gradient; Grad-CAM++ adds up a_ij · ReLU(G_ij) over the cells"
        case .plusPlusFiniteDifferences:
            return "the lesson checks the powers by finite differences, but Grad-CAM++ itself only needs g, from backpropagation"
        case .plusPlusLogitCurvature:
            return "the logit of a ReLU network is piecewise linear, so its second derivative is 0; g² comes from Y = exp(y^c)"
        case .plusPlusExponentialChangesMap:
            return "e^y multiplies every channel's weight by the same positive number, which the scaling to 0…1 removes"
        case .hiResInsteadOfGradCAM:
            return "you multiplied gradient and activation cell by cell (HiResCAM); Grad-CAM first averages each gradient map into one α_k"
        case .gradCAMInsteadOfHiRes:
            return "you averaged each gradient map first (Grad-CAM); HiResCAM multiplies each cell's gradient by that cell's activation"
        case .elementWiseInsteadOfHiRes:
            return "you applied the ReLU to each product before adding (element-wise Grad-CAM); HiResCAM adds the products first"
        case .hiResKeptOldGradient:
            return "you kept the gradients of the earlier layer; after global average pooling the gradient is w^c_k / 9 in every cell"
        case .hiResTimesZ:
            return "the gradient there is w^c_k / Z, the same as α_k, so the two maps are equal, not Z times apart"
        case .hiResDiffersWhereActivationsVary:
            return "both maps weigh the same activations; they differ only where the gradient changes from cell to cell"
        case .hiResKeepsNegative:
            return "both methods end with a ReLU, as every method of the family does"
        case .scoreCAMWithoutExponential:
            return "you divided the scores by their sum; Score-CAM takes a softmax, e^{s_k} / Σ_j e^{s_j}"
        case .scoreCAMRawScores:
            return "you used the raw scores; Score-CAM turns them into weights with a softmax"
        case .layerCAMNegativeGradients:
            return "you kept the negative gradients (HiResCAM); LayerCAM weighs each activation by ReLU(g)"
        case .layerCAMWithoutActivations:
            return "you added the positive gradients without multiplying them by the activations"
        case .elementWiseKeptNegativeProducts:
            return "you kept the negative products g · A (HiResCAM); element-wise Grad-CAM sets each of them to 0 before adding"
        case .scoreCAMClassBlind:
            return "Score-CAM weighs each mask by the score of the explained class, so its map changes with the class"
        case .layerCAMClassBlind:
            return "LayerCAM's weights are the gradient of the explained class's score, so its map changes with the class"
        case .plusPlusClassBlind:
            return "Grad-CAM++'s weights come from the gradient of the explained class's score, so its map changes with the class"

        case .productOfSums:
            return "you multiplied Σ_j a_j by Σ_j w_jk; z_k adds up the products a_j · w_jk"
        case .absoluteContributions:
            return "you added the sizes |a_j w_jk|; a negative contribution counts with its sign"
        case .sharedByWeight:
            return "you shared R_k by the weights alone; LRP-0 shares it by the contributions z_jk = a_j w_jk"
        case .sharedByInput:
            return "you shared R_k by the inputs alone; LRP-0 shares it by the contributions z_jk = a_j w_jk"
        case .relevanceNotScaled:
            return "you gave the shares z_jk / z_k without multiplying them by R_k"
        case .conservedToZ:
            return "the shares add up to R_k, not to z_k"
        case .largestWeight:
            return "you picked the largest weight; relevance follows the contribution a_j w_jk"
        case .largestInput:
            return "you picked the largest input; relevance follows the contribution a_j w_jk"
        case .absoluteInsteadOfReLU:
            return "you took |z| instead of ReLU(z); a negative sum becomes 0, not positive"
        case .switchedOffUnitPassed:
            return "a switched-off unit passed relevance on; a unit with h_j = 0 receives none and passes none"
        case .gradientWithoutInput:
            return "you gave the gradient ∂f/∂x_i alone; multiply it by the input x_i"
        case .sumOfGradient:
            return "you added the gradients; the relevances R(x_i) = x_i ∂f/∂x_i add up to f(x)"
        case .lrpIsGradient:
            return "the gradient alone says how f changes, not how much of f each input holds; LRP-0 multiplies it by the input"
        case .lrpIsInput:
            return "the input alone ignores the weights; LRP-0 multiplies it by the slope ∂f/∂x_i"
        case .lrpIsWeight:
            return "one weight of W₁ ignores the input and the layer above; LRP-0 gives x_i ∂f/∂x_i"
        case .epsilonWrongSign:
            return "you subtracted ε; the epsilon rule adds ε (with the sign of z_k) to the denominator, moving it away from 0"
        case .epsilonForgotten:
            return "you used LRP-0; the epsilon rule adds ε to the denominator"
        case .absorbedIsEpsilon:
            return "ε itself is not what is absorbed; the part held back is R_k · ε / (ε + z_k)"
        case .epsilonAbsorbsAll:
            return "with ε → 0 the denominator is z_k again, so nothing is absorbed"
        case .epsilonGivesGradient:
            return "with ε → 0 the rule becomes LRP-0, which is gradient × input, not the gradient"
        case .epsilonUnbounded:
            return "the rule only blows up when the denominator nears 0; with ε → 0 it is LRP-0 and z_k > 0 here"

        case .baselineIgnored:
            return "you left out f(x'); IG explains the difference f(x) − f(x')"
        case .gradientAtInputTimesDistance:
            return "you multiplied the gradient at x by (x − x'); IG averages the gradient along the whole path"
        case .leftInsteadOfRight:
            return "you used the left Riemann sum (α = 0, …, (m−1)/m); the right one evaluates α = 1/m, …, 1"
        case .rightInsteadOfLeft:
            return "you used the right Riemann sum (α = 1/m, …, 1); the left one evaluates α = 0, …, (m−1)/m"
        case .stepWidthForgotten:
            return "you left out the step width 1/m: each value of the sum is weighted 1/m"
        case .distanceForgotten:
            return "you left out the factor (x − x') in front of the integral"
        case .middleAtLeftEnds:
            return "you evaluated at the left ends of the intervals; middle Riemann uses their centres, α = (i + ½)/m"
        case .exactRulesLeftOnly, .exactRulesRightOnly:
            return "left and right Riemann miss a straight line's integral by half a step; the rules that evaluate at centres or average the two ends hit it"
        case .exactRulesNone:
            return "some rules integrate a straight line exactly: the midpoint of each interval, or the mean of its two ends"
        case .igIsGradientTimesInput:
            return "you gave gradient × input at x; IG averages the gradient along the path, and ∫₀¹ α dα = ½"
        case .gradientAtBaseline:
            return "you took the gradient at the baseline only (one left Riemann step); at x' = 0 it is 0"
        case .gradientTimesInputSum:
            return "you added gradient × input; the IG attributions add up to f(x) − f(x')"
        case .igInsteadOfGradientTimesInput:
            return "you gave the IG attributions; gradient × input is x_i ∂f/∂x_i at x, without the ½"
        case .completenessMisjudged:
            return "compare the sum of your two gradient × input values with f(x) − f(x') = IG₁ + IG₂"
        case .igWeightsOnly:
            return "you gave the weights w_i; IG multiplies the gradient by (x_i − x'_i)"
        case .otherBaselineUsed:
            return "you used the other baseline"
        case .baselineOrderSwapped:
            return "you computed f(x') − f(x); completeness gives f(x) − f(x')"
        case .blackPixelGetsWeight, .blackPixelGetsScore, .blackPixelNegative:
            return "the factor (x_i − x'_i) is 0 for a black pixel on the black baseline, whatever its weight"
        case .gapsCompared:
            return "compute f at each baseline and compare |f(x) − f(x')| for the two"

        case .aucLeftSum:
            return "you used only the left end of each interval; the trapezoid rule takes the mean of both ends"
        case .aucRightSum:
            return "you used only the right end of each interval; the trapezoid rule takes the mean of both ends"
        case .aucMeanOfPoints:
            return "you averaged all the points alike; in the trapezoid rule the two end points count half"
        case .aucWidthForgotten:
            return "you added the trapezoids' heights without their width f_{k+1} − f_k"
        case .deletionEndsAtZero:
            return "a deleted pixel is not empty: it takes the fill's value, and the network still gives the fill a score"
        case .deletionEndDependsOnMap:
            return "the order only decides the points in between; at 100 % every map has deleted every pixel"
        case .deletionEndsAtFullScore:
            return "the whole picture is where deletion starts (0 %); at 100 % only the fill is left"
        case .deletionLargerAreaBetter:
            return "for deletion a smaller area is better: a faithful map makes the score fall fast"
        case .deletionSameEndsSameFaithfulness:
            return "every deletion curve has the same two ends; the maps differ in how fast the curve falls in between"
        case .pointingLargestMagnitude:
            return "you took the cell of largest size |R|; the pointing game takes the largest value, and a large negative value counts against the class"
        case .massWithNegatives:
            return "you kept the negative relevance; the relevance mass adds only the positive part R⁺"
        case .massOverAbsolute:
            return "you divided by Σ|R|; the relevance mass divides by the positive relevance Σ R⁺ alone"
        case .massInsideOverOutside:
            return "you divided by the relevance outside the mask; the relevance mass divides by all the positive relevance"
        case .rankByMagnitude:
            return "you ranked the cells by |R|; the rank accuracy ranks them by their value, so negative cells come last"
        case .rankPositiveCells:
            return "K is the number of cells in the mask, not the number of positive cells"
        case .rankOverAllCells:
            return "you divided by all the cells; the rank accuracy divides the hits by K = |M|"
        case .randomMassHalf:
            return "a random map is not half in the mask: each cell holds the same share on average, so the mask gets its share of the area"
        case .randomMassOfThisMap:
            return "that is the given map's mass; a random map's expected mass depends only on the mask's area"
        case .randomMassOneOverM:
            return "the mask gets |M| of the N cells' equal shares: |M|/N, not 1/|M|"
        case .pearsonInsteadOfSpearman:
            return "you correlated the values (Pearson); Spearman's ρ correlates their ranks"
        case .spearmanWithoutSix:
            return "you left out the factor 6: ρ = 1 − 6 Σ d² / (n(n² − 1))"
        case .spearmanOfValues:
            return "d is the difference of the two ranks of a pixel, not of its two values"
        case .cascadeFallingFails:
            return "a falling ρ is what a method should show: its map changes as the weights become random"
        case .cascadePositiveIsEnough:
            return "a map that stays near its trained form while the weights are random does not depend on the weights"
        case .dataTestAgreementIsGood:
            return "agreement with a network that learned nothing is the warning sign, not a sign of faithfulness"
        case .dataTestNetworkLearned:
            return "with shuffled labels there is nothing to learn about the pictures; its accuracy on new pictures stays at chance"
        case .dataTestMeaningless:
            return "the test is exactly this comparison: a method that explains what was learned gives the two networks different maps"
        case .markBrightestMarkedCell:
            return "you took the cell with the most relevance on the marked pictures, where the shape is; compare with the plain pictures"
        case .markRowColumnSwapped:
            return "you swapped the row and the column"
        case .markCountedFromOne:
            return "rows and columns are numbered from 0"
        case .markGainIsShare:
            return "you gave the share on the marked pictures; the gain is marked minus plain"
        case .markGainOfBrightestCell:
            return "you took the brightest cell; the gain is measured in the mark's own cell"
        case .markClassThatLoses:
            return "that class loses pictures when the mark is painted on; the mark's class is the one they move to"
        case .markClassOtherLoser:
            return "the mark's class is the column that gains pictures when the mark is painted on, not a class whose pictures leave"
        }
    }
}
