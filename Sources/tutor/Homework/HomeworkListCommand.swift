import ArgumentParser
import Lessons

extension HomeworkCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: translated("List every exercise, lesson by lesson."))

        @OptionGroup var output: JSONFlag

        @OptionGroup var language: LanguageOption

        func run() throws {
            if output.json {
                let items = HomeworkCatalog.templates.map { template -> JSONOutput in
                    let exercise = template.make(student: "x")
                    return .object([
                        ("exercise", .string(template.id)), ("lesson", .string(template.lesson.rawValue)),
                        ("title", .string(translated(template.title))), ("questions", .number(Double(exercise.questions.count))),
                        ("max_score", .number(Double(exercise.maxScore))),
                    ])
                }
                print(JSONOutput.array(items).rendered())
                return
            }
            for lesson in HomeworkLesson.allCases {
                print("\(translated(lesson.displayName)) (tutor lesson \(lesson.rawValue)):")
                for template in HomeworkCatalog.templates where template.lesson == lesson {
                    let exercise = template.make(student: "x")
                    let entry = translated(template.title) + "  "
                        + translated("({$1} questions, {$2} points)", with: exercise.questions.count, exercise.maxScore)
                    print(hangingLines("  " + template.id, entry, column: 16).joined(separator: "\n"))
                }
            }
            print("\n" + translated("Show one with: tutor homework show cam-1 --student YOUR-ID"))
        }
    }
}
