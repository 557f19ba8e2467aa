import ArgumentParser
import Lessons

/// `tutor homework`: personalised exercises, checked answers, and for a teacher a course with
/// private numbers, sheets for a class and one gradebook. One file per subcommand beside this one.
struct HomeworkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "homework",
        abstract: translated("Work personalised exercises for every lesson, check answers, and run homework for a class."),
        discussion: translated("""
            Every student gets their own numbers. In practice mode (no --course) they come from the \
            exercise id and the student id, so anyone can reproduce them and their key: good for \
            self-study. A teacher creates a course file (`homework course new`), whose secret makes \
            every student's numbers private; then `sheets` writes a sheet per student, students check \
            only the form of their answers, and `grade` writes one gradebook. See docs/homework.md.
            """),
        subcommands: [List.self, Show.self, Check.self, Key.self, Progress.self,
                      CourseCommand.self, Sheets.self, Grade.self]
    )
}
