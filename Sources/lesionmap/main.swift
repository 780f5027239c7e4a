import ArgumentParser
import Foundation
import Pipeline

LesionMapCommand.main()
