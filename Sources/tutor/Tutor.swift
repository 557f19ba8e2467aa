import ArgumentParser

@main
struct Tutor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tutor",
        abstract: "Learn how a convolutional network's prediction is explained, one verified step at a time.",
        subcommands: [HomeworkCommand.self]
    )
}
