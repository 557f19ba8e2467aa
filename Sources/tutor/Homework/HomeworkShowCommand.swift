import ArgumentParser
import Lessons

extension HomeworkCommand {
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: translated("Show an exercise with your own numbers."),
            discussion: translated("""
                With a lesson name instead of an exercise id, every exercise of that lesson is shown \
                (JSON: a list). With --course, the numbers are the course's (for the teacher); \
                without it, practice numbers.
                """))

        @OptionGroup var exercise: ExerciseOrLessonArgument
        @OptionGroup var student: StudentOption
        @OptionGroup var course: CourseOption
        @Option(help: .translated("How to print the exercise: text, markdown or json."))
        var format: HomeworkFormat = .text

        @OptionGroup var language: LanguageOption

        func run() throws {
            let course = try course.load()
            let exercises = exercise.templates.map { $0.make(student: student.student, course: course) }
            switch format {
            case .text:
                print(exercises.map(HomeworkRendering.text).joined(separator: "\n\n" + String(repeating: "─", count: 60) + "\n\n"))
            case .markdown:
                print(exercises.map(HomeworkRendering.markdown).joined(separator: "\n\n"))
            case .json:
                let items = exercises.map(HomeworkRendering.json)
                print((items.count == 1 ? items[0] : .array(items)).rendered())
            }
        }
    }
}
