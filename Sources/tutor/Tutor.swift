import ArgumentParser

@main
struct Tutor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tutor",
        abstract: "Learn how a convolutional network's prediction is explained, one verified step at a time.",
        discussion: """
        Start with `tutor train` to train the small network (or use the one shipped in models/), \
        then `tutor predict` to classify a picture, and `tutor homework list` for exercises.
        """,
        subcommands: [TrainCommand.self, PredictCommand.self, HomeworkCommand.self]
    )
}
